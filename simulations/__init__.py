"""The simulation harness: a city of workers, demand peaks, policies and KPIs, driving the
engine with a simulated clock (README "Simulating demand peaks")."""
