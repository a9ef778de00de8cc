"""Street triage dispatch: intake, Right Care Right Person routing, dispatch and s136 handovers."""
