"""The staff admin area under /admin: guards, layout, dashboard; each domain adds its own pages."""
