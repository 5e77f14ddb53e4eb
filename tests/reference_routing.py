"""A brute-force optimum for tiny routing problems, to check :func:`matcher.routing.solve`.

Every split of the visits over the vehicles (or dropped), every order within each route, each
visit started as early as it can: with costs on arcs, lateness and drops only, starting early
never costs more. Only for problems without links, breaks or locks, and a handful of visits.
"""

from __future__ import annotations

import itertools

from matcher.routing import RoutingProblem


def route_cost(problem: RoutingProblem, vehicle: int, order: tuple[int, ...]) -> int | None:
    """Arc cost plus lateness of one route started as early as possible, or None if
    infeasible."""
    car = problem.vehicles[vehicle]
    cost = problem.travel if problem.cost is None else problem.cost
    at, node, total, load, service = car.start, car.start_node, 0, 0, 0
    for i in order:
        visit = problem.visits[i]
        if visit.vehicles is not None and vehicle not in visit.vehicles:
            return None
        start = max(visit.earliest, at + int(problem.travel[node, visit.node]))
        if start > visit.hard_latest:
            return None
        total += int(cost[node, visit.node]) + visit.late_cost * max(0, start - visit.latest)
        at, node = start + visit.duration, visit.node
        load, service = load + visit.load, service + visit.duration
    if car.end_node is not None:
        total += int(cost[node, car.end_node])
        at += int(problem.travel[node, car.end_node])
    if at > car.end or (car.capacity and load > car.capacity) or (
            car.max_service and service > car.max_service):
        return None
    return total


def best_cost(problem: RoutingProblem) -> int:
    """The optimum of arc cost + lateness + drop costs (mandatory visits must be served)."""
    n, m = len(problem.visits), len(problem.vehicles)
    best = None
    for owner in itertools.product(range(-1, m), repeat=n):
        if any(o < 0 and problem.visits[i].drop_cost is None for i, o in enumerate(owner)):
            continue
        total = sum(problem.visits[i].drop_cost for i, o in enumerate(owner) if o < 0)
        for k in range(m):
            mine = [i for i, o in enumerate(owner) if o == k]
            options = [route_cost(problem, k, p) for p in itertools.permutations(mine)]
            options = [c for c in options if c is not None]
            if not options:
                total = None
                break
            total += min(options)
        if total is not None and (best is None or total < best):
            best = total
    assert best is not None, "no feasible solution"
    return best


def check_routes(problem: RoutingProblem, solution) -> list[str]:
    """Every rule of the problem that ``solution`` breaks, as readable lines."""
    out: list[str] = []
    locked = {lock.visit for lock in problem.locked}
    seen: dict[int, int] = {}
    start_of: dict[int, int] = {}
    for route in solution.routes:
        k, car = route.vehicle, problem.vehicles[route.vehicle]
        at, node, load, service = car.start, car.start_node, 0, 0
        ends: list[tuple[int, int, int]] = []   # (free from, free until, travel in between)
        for i, start in zip(route.visits, route.starts):
            visit = problem.visits[i]
            if i in seen:
                out.append(f"visit {i} on vehicles {seen[i]} and {k}")
            seen[i], start_of[i] = k, start
            travel = int(problem.travel[node, visit.node])
            if visit.vehicles is not None and k not in visit.vehicles:
                out.append(f"visit {i}: vehicle {k} not allowed")
            if start < at + travel:
                out.append(f"visit {i}: starts before the vehicle can arrive")
            if not visit.earliest <= start <= visit.hard_latest:
                out.append(f"visit {i}: start {start} outside [{visit.earliest}, "
                           f"{visit.hard_latest}]")
            ends.append((at, start, travel))
            at, node = start + visit.duration, visit.node
            load, service = load + visit.load, service + visit.duration
        back = 0 if car.end_node is None else int(problem.travel[node, car.end_node])
        ends.append((at, car.end, back))
        if at + back > car.end:
            out.append(f"vehicle {k}: ends after {car.end}")
        if car.capacity and load > car.capacity:
            out.append(f"vehicle {k}: load {load} over {car.capacity}")
        if car.max_service and service > car.max_service:
            out.append(f"vehicle {k}: service {service} over {car.max_service}")
        for i, start in zip(route.visits, route.starts):
            end = start + problem.visits[i].duration
            if i not in locked and any(start < off and end > on for on, off in car.off_duty):
                out.append(f"visit {i}: served off duty {car.off_duty}")
        for b in car.breaks:
            if not any(max(free, b.earliest) <= min(until - b.duration, b.latest)
                       and until - free >= travel + b.duration for free, until, travel in ends):
                out.append(f"vehicle {k}: no room for the break {b}")
    for i, visit in enumerate(problem.visits):
        if i not in seen and visit.drop_cost is None:
            out.append(f"mandatory visit {i} dropped")
    for gap in problem.gaps:
        a, b = start_of.get(gap.first), start_of.get(gap.second)
        if b is not None and a is None or gap.together and (a is None) != (b is None):
            out.append(f"gap {gap}: served without its partner")
        elif a is not None and b is not None and not gap.min_gap <= b - a <= gap.max_gap:
            out.append(f"gap {gap}: starts {b - a} apart")
    for link in problem.same_vehicle:
        if seen.get(link.first) != seen.get(link.second):
            out.append(f"same vehicle {link}: {seen.get(link.first)} and {seen.get(link.second)}")
    for lock in problem.locked:
        if seen.get(lock.visit) != lock.vehicle or start_of.get(lock.visit) != lock.start:
            out.append(f"locked visit {lock.visit} moved")
    return out
