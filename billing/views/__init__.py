"""The shop's pages and its small JSON API, one module per topic."""
