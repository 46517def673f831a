"""The contracts between workflows, activities and the edge: plain dataclasses and names, no grpc or
protobuf (safe to import inside the workflow sandbox and from the edge).

* One module per workflow (``lifecycle``, ``execution``, ``protection``, ``delivery``, ``crm``,
  ``handover``, ``closure``, ``audit_retention``): its type name, id, updates / signals / queries
  and payloads.
* One module per activity class module under ``workflows.activities`` (``registry``, ``approval``,
  ``notify``, ``reporting``, ``tasks``, ``webhooks``, ``org``, ``lifecycle_ops``, ``audit``): the
  activity type names and their inputs and outputs. Workflows call activities by method reference
  (``workflow.execute_activity_method(RegistryActivities.get_project, ...)``), never by name; the
  names are kept here for the ``@activity.defn`` decorators and the test fakes.
* ``errors``: ``ApplicationError`` types; ``policies``: every activity timeout and retry policy.

Everything named here is recorded in workflow histories: type names, ids, and dataclass field names
and shapes must not change (add fields with defaults instead).
"""
