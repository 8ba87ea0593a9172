"""The shared web layout: base templates, stylesheet, landing page and role dashboards."""
