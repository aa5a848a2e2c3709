"""The audit ledger: one immutable record per plan, apply and refusal."""
