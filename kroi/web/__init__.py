"""Web layer shared by every domain: templating, i18n, page-or-fragment rendering, errors."""
