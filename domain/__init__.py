"""Business rules. Plain Python: no Flask imports. Views, jobs, the CLI and tests call these."""
