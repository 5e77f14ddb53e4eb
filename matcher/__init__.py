"""The dispatch domain: model, constraints, insertion, scoring, solvers, planner, engine, store."""
