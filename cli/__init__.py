"""The top floor: the ``baobei`` command (``cli.main``), the ``baobei dev`` supervisor, the harness
that launches it for end-to-end tests and benchmarks, demo data and the dev tools (``cli.tools``).
Nothing below imports it: services, workflows and the edge run without it."""
