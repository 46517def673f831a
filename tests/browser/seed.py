"""The demo data of ``baobei dev --demo`` (baobei/demo.py) is what the browser tests run on."""

from baobei.demo import ENGINEER, FINANCE, FORM, FORM_KEY, MANAGER, ORG, PASSWORD, PEOPLE, POLICY, REP, Person, seed

__all__ = ["ENGINEER", "FINANCE", "FORM", "FORM_KEY", "MANAGER", "ORG", "PASSWORD", "PEOPLE", "POLICY", "REP",
           "Person", "seed"]
