"""The demo data of ``baobei dev --demo`` (cli/demo.py) is what the browser tests run on."""

from cli.demo import ENGINEER, FINANCE, FORM, FORM_KEY, MANAGER, ORG, PASSWORD, PEOPLE, POLICY, REP, Person, seed

__all__ = ["ENGINEER", "FINANCE", "FORM", "FORM_KEY", "MANAGER", "ORG", "PASSWORD", "PEOPLE", "POLICY", "REP",
           "Person", "seed"]
