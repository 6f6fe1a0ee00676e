"""Pages only admins use: loading the national hazard layers."""
