"""Pure verification rules: row checks and their column vocabulary, postal formats, qualification,
scoring, ISO 2859-1 sampling, Wilson statistics, switching rules and quality figures.

Nothing here imports another Leadex package, touches the database or needs an app: each module is
a set of functions tested alone. Marketplace imports these rules directly; the spot-check workflow
beside this package uses them too.
"""
