"""One history marker for a workflow's whole set of patches (issue 15).

Every ``workflow.patched(id)`` a run answers True leaves two history events: its marker and an
upsert of the ``TemporalChangeVersion`` search attribute (a visibility write on the server). A
ProjectLifecycle had accumulated eleven such patches, a ProjectExecution five: about a third of a
new project's history and as many visibility writes, for decisions that are the same in every new
run. A bundle answers them all with one patch of its own, asked when the run begins:

* a run that starts (or continues as new) under the bundle records its one marker and every patch
  the bundle covers is on, without markers of their own;
* a run recorded before the bundle has no such marker: it is asked during replay, answers False,
  and each covered patch is asked as before, so old histories replay unchanged.

The bundle is asked in the workflow's ``@workflow.init``, before the run method or any update
handler records a command, so its marker is always a run's first command. A patch added later is
not in the bundle: guard it with ``workflow.patched`` (or a new bundle) as usual.
"""

from __future__ import annotations

from collections.abc import Collection

from temporalio import workflow


class PatchBundle:
    def __init__(self, bundle_id: str, covers: Collection[str]) -> None:
        self._id = bundle_id
        self._covers = frozenset(covers)
        # Asked at once: the constructor runs in @workflow.init, before any other command.
        self.on = workflow.patched(bundle_id)

    def patched(self, patch_id: str) -> bool:
        """``workflow.patched(patch_id)``, answered by the bundle for the patches it covers."""
        if self.on and patch_id in self._covers:
            return True
        return workflow.patched(patch_id)
