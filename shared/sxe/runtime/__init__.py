"""The serverless runtime: project.yml, DO event shapes, packaging, the local server, health and alarms.

The same handlers run on DigitalOcean Functions and under `sxe serve`. The modules here
read `project.yml` as the only description of the functions, so nothing is configured twice.
"""
