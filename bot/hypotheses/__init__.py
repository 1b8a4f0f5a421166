"""The team's hypotheses: kept by admins, and measured as evidence in the digest."""
