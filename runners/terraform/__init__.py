"""Everything that runs or reads Terraform: the engine, plan views, summary, report."""
