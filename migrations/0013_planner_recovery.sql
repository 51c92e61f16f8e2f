-- owner: planner. On start the planner moves on each job still `writing` from the database alone
-- (services/planner/recovery.py): it reads which dispatched chunks the generator has stored,
-- so a report lost to a crash never leaves a job waiting. Read-only, like the other
-- deliberate cross-schema reads of migrations/0009_roles.sql.
GRANT USAGE ON SCHEMA generator TO longform_planner;
GRANT SELECT ON generator.chunks TO longform_planner;
