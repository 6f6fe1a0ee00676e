"""Staff pages to create and edit projects: a drawing map, the fields and the plan links."""
