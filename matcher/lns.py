"""Large neighbourhood search over linked visits, after the OR-Tools search of :mod:`matcher.routing`.

OR-Tools' local search moves one visit at a time, so a visit tied to another one by a start gap
(a simultaneous pair is a gap of 0..0) rarely finds a place where its partner can start with it:
plans with many such pairs stay late. Here a *request* is a group of visits joined by start gaps
(a pair, a team, a team and its follow-up); each step takes some requests out of the routes
(related ones: close in space and time, the latest, random ones, or whole routes) and puts them
back one request at a time, the visits of a pair together: every pair of positions for its two
visits on two routes is priced at once (numpy), the cheapest few exactly. Plain problems (no
start gaps, e.g. VRPTW) are also searched as SISR does: strings of consecutive visits cut from
routes near a random visit, a varied recreate order, blinks, and a looser threshold.

Start times are always the earliest ones the routes allow: each visit starts at the latest of
its window's opening, its arrival after the previous visit, and what its gaps to its partners
demand (a longest-path fixpoint, which also finds routes that wait on each other in a cycle).
With costs on arcs, on lateness and on drops only, the earliest schedule of given routes is
never more expensive than any other, so the search only chooses routes.

Hard rules kept: vehicles allowed per visit, hard latest starts, each vehicle's end, capacity and
service limits, start gaps, locked visits (never moved; a request with a locked visit stays as it
is). Problems with breaks, off-duty times or same-vehicle links are left to OR-Tools
(:func:`applicable`).
Deterministic: a seeded ``numpy`` generator; with ``max_improvements`` the run does not depend
on the machine's speed unless the time limit comes first.
"""

from __future__ import annotations

import time
from collections import deque

import numpy as np

INF = float("inf")
# Matrix nodes at most: the search reads travel times from nested lists (fast to index), about
# 36 bytes an entry, so 2000 nodes take some 150 MB; larger problems stay with OR-Tools.
MAX_NODES = 2000
# Positions per visit kept for the joint pricing of a pair, and candidates priced exactly.
PAIR_POOL = 24
EXACT = 6
# Further candidates tried, cheapest first, while none of those was feasible.
FALLBACK = 60
# Requests taken out per step: 2 up to this (and a quarter of them); threshold of acceptance:
# a step may cost up to this share of the cost more (times an exponential draw), falling to 0.
MAX_RUIN = 15
TEMPERATURE = 0.003
# Plain problems (no start gaps, e.g. VRPTW) also cut strings of consecutive visits from
# neighbouring routes (``_ruin_strings``; a string at most STRING_MAX visits and the routes' mean
# length), take out more requests and accept worse steps more readily. After 3000 steps from
# OR-Tools' first solution on R201, RC201, RC101 (seeds 0-2), mean gap: +6.27% without strings
# (two seeds), +4.31% with them, +2.75% with PLAIN_MAX_RUIN 25 and PLAIN_TEMPERATURE 0.01 too
# (0.001: +5.29%, 0.02: +3.66%; the gap problems keep the values above).
STRING_MAX = 10
PLAIN_MAX_RUIN = 25
PLAIN_TEMPERATURE = 0.01
RECREATE_ORDERS = 4
# SISR blinks: each position is skipped with this chance in recreate (plain problems). 3000
# steps, R201, RC201, RC101, seeds 0-2: +2.19% without, +1.95% at 0.01, +2.74% at 0.05.
BLINK = 0.01


def applicable(problem) -> bool:
    """The search handles every rule of ``problem`` (:func:`handles`) and the problem has
    start gaps, where it helps most."""
    return bool(problem.gaps) and handles(problem)


def handles(problem) -> bool:
    """The search handles every rule of ``problem`` (no breaks, off-duty times or same-vehicle
    links) and its matrix fits as Python lists (``MAX_NODES``); with or without start gaps."""
    return not problem.same_vehicle and not any(
        v.breaks or v.off_duty for v in problem.vehicles) and bool(problem.vehicles) \
        and len(problem.travel) <= MAX_NODES


class Search:
    def __init__(self, problem, routes: list[list[int]], seed: int = 0,
                 like: "Search | None" = None) -> None:
        """``like``: another search of the same problem whose matrices this one shares."""
        p = self.problem = problem
        n, m = len(p.visits), len(p.vehicles)
        self.n, self.m = n, m
        travel = np.asarray(p.travel, dtype=np.int64)
        size = travel.shape[0]
        if like is not None:
            self.T, self.C, self.Tl, self.Cl = like.T, like.C, like.Tl, like.Cl
        else:
            # matrix nodes plus one extra node: an open route's end (0 to and from anything)
            self.T = np.zeros((size + 1, size + 1), dtype=np.int64)
            self.T[:size, :size] = travel
            self.Tl = self.T.tolist()
            if p.cost is None:
                self.C, self.Cl = self.T, self.Tl
            else:
                self.C = np.zeros((size + 1, size + 1), dtype=np.int64)
                self.C[:size, :size] = np.asarray(p.cost, dtype=np.int64)
                self.Cl = self.C.tolist()
        self.node = [v.node for v in p.visits]
        self.dur = [v.duration for v in p.visits]
        self.ear = [v.earliest for v in p.visits]
        self.lat = [v.latest for v in p.visits]
        self.hard = [v.hard_latest for v in p.visits]
        self.lc = [v.late_cost if v.hard_latest > v.latest else 0 for v in p.visits]
        self.load = [v.load for v in p.visits]
        self.drop = [v.drop_cost for v in p.visits]
        self.allowed = [None if v.vehicles is None else frozenset(v.vehicles)
                        for v in p.visits]
        self.fixed = set()
        for lock in p.locked:
            i = lock.visit
            self.ear[i] = self.lat[i] = self.hard[i] = lock.start
            self.lc[i] = 0
            self.allowed[i] = frozenset([lock.vehicle])
            self.fixed.add(i)
        self.vstart = [v.start_node for v in p.vehicles]
        self.vend = [size if v.end_node is None else v.end_node for v in p.vehicles]
        self.vs = [v.start for v in p.vehicles]
        self.ve = [v.end for v in p.vehicles]
        self.cap = [v.capacity for v in p.vehicles]
        self.maxserv = [v.max_service for v in p.vehicles]
        # gap edges: start[j] >= start[i] + w for (j, w) in succ[i]
        self.succ: list[list[tuple[int, int]]] = [[] for _ in range(n)]
        self.pred: list[list[tuple[int, int]]] = [[] for _ in range(n)]
        self.distinct: list[set[int]] = [set() for _ in range(n)]  # never on one vehicle
        for g in p.gaps:
            self.succ[g.first].append((g.second, g.min_gap))
            self.pred[g.second].append((g.first, g.min_gap))
            self.succ[g.second].append((g.first, -g.max_gap))
            self.pred[g.first].append((g.second, -g.max_gap))
            # one vehicle cannot do both when neither can end before the other starts
            if g.max_gap < p.visits[g.first].duration and \
                    g.min_gap > -p.visits[g.second].duration:
                self.distinct[g.first].add(g.second)
                self.distinct[g.second].add(g.first)
        self.requests = self._requests()
        self.request_of = [0] * n
        for r, members in enumerate(self.requests):
            for i in members:
                self.request_of[i] = r
        self.movable = [r for r, members in enumerate(self.requests)
                        if not any(i in self.fixed for i in members)]
        self._movable_set = set(self.movable)
        self.plain = not p.gaps
        self.max_ruin = PLAIN_MAX_RUIN if self.plain else MAX_RUIN
        self.temperature = PLAIN_TEMPERATURE if self.plain else TEMPERATURE
        # Without gaps and soft lateness the table's price of a position is its exact cost
        # change and its hard room exact, so the cheapest finite one needs no exact re-pricing
        # (one trial instead of EXACT: the same routes for about 20% less CPU on R201).
        self.exact_price = self.plain and not any(self.lc)
        self._near = like._near if like is not None else None
        self._allowed_mask = [None if a is None else np.isin(np.arange(m), sorted(a))
                              for a in self.allowed]
        self.rng = np.random.default_rng(seed)
        self._set(routes)

    # ------------------------------------------------------------------ structure

    def _requests(self) -> list[list[int]]:
        """Visits joined by start gaps, each group in an order where a visit's gap partners
        that come first are placed before it (the first of a link first)."""
        seen, out = [False] * self.n, []
        for i in range(self.n):
            if seen[i]:
                continue
            group, todo = [], [i]
            seen[i] = True
            while todo:
                j = todo.pop()
                group.append(j)
                for k, _ in self.succ[j]:
                    if not seen[k]:
                        seen[k] = True
                        todo.append(k)
            out.append(sorted(group))
        return out

    def _set(self, routes: list[list[int]]) -> None:
        self.routes = [list(r) for r in routes] + [[] for _ in range(self.m - len(routes))]
        self.route_of: list[int | None] = [None] * self.n
        for k, r in enumerate(self.routes):
            for i in r:
                self.route_of[i] = k
        starts = self._full_times()
        if starts is None:
            raise ValueError("the initial routes are infeasible")
        self.s = starts
        self.cost = self._total()
        self._touched = set()
        self._grid, self._dirty = None, set()

    def _full_times(self) -> list | None:
        """Earliest start times of the current routes (None: a hard limit or a cycle of
        waits breaks them): each route forward once, then again from every visit a gap
        partner pushed later."""
        T, node, dur, hard, succ = self.Tl, self.node, self.dur, self.hard, self.succ
        route_of, routes = self.route_of, self.routes
        s: list = [None] * self.n
        lb = list(self.ear)
        queue: deque = deque()
        for k, r in enumerate(routes):
            if r:
                queue.append((k, 0))
        budget = 40 * (self.n + self.m) + 1000
        while queue:
            budget -= 1
            if budget < 0:
                return None
            k, idx = queue.popleft()
            r = routes[k]
            if idx < 0:  # a visit pushed by a partner
                j = ~idx
                if s[j] >= lb[j]:
                    continue
                idx = r.index(j)
            if idx == 0:
                t, prev = self.vs[k], self.vstart[k]
            else:
                p = r[idx - 1]
                t, prev = s[p] + dur[p], node[p]
            end = True
            for pos in range(idx, len(r)):
                i = r[pos]
                new = t + T[prev][node[i]]
                if lb[i] > new:
                    new = lb[i]
                old = s[i]
                if old is not None and new <= old and pos > idx:
                    end = False
                    break
                if new > hard[i]:
                    return None
                s[i] = new
                for j, w in succ[i]:
                    if route_of[j] is not None and new + w > lb[j]:
                        lb[j] = new + w
                        if s[j] is not None and lb[j] > s[j]:
                            queue.append((route_of[j], ~j))
                t, prev = new + dur[i], node[i]
            if end and t + T[prev][self.vend[k]] > self.ve[k]:
                return None
        return s

    def _total(self) -> int:
        total = 0
        C, node = self.Cl, self.node
        for k, r in enumerate(self.routes):
            if not r:
                continue
            prev = self.vstart[k]
            for i in r:
                total += C[prev][node[i]]
                prev = node[i]
            total += C[prev][self.vend[k]]
        for i in range(self.n):
            if self.route_of[i] is None:
                total += self.drop[i] if self.drop[i] is not None else (1 << 50)
            elif self.lc[i]:
                total += self.lc[i] * max(0, self.s[i] - self.lat[i])
        return total

    # ------------------------------------------------------------------ times

    def _propagate(self, s: list, starts: list[tuple[int, int]]) -> dict | None:
        """Earliest start times after a change, as an overlay on ``s`` (None: not timed yet):
        the routes are re-timed from each ``(route, index)`` of ``starts`` and from wherever a
        gap partner pushes a visit; None when a hard limit breaks (or a cycle of waits)."""
        T, node, dur, ear, hard = self.Tl, self.node, self.dur, self.ear, self.hard
        routes, route_of, succ = self.routes, self.route_of, self.succ
        ov: dict[int, int] = {}
        lb: dict[int, int] = {}
        queue = deque(starts)
        first = len(starts)
        budget = 40 * (self.n + self.m) + 1000
        while queue:
            budget -= 1
            if budget < 0:
                return None
            k, at = queue.popleft()
            r = routes[k]
            if first > 0:
                first -= 1
                idx = at
            else:
                if route_of[at] != k:
                    continue
                idx = r.index(at)
            if idx == 0:
                t, prev = self.vs[k], self.vstart[k]
            else:
                p = r[idx - 1]
                t, prev = ov.get(p, s[p]), node[p]
                if t is None:
                    continue  # its route is timed later and reaches this visit then
                t += dur[p]
            changed = True
            for pos in range(idx, len(r)):
                i = r[pos]
                new = t + T[prev][node[i]]
                e = lb.get(i, ear[i])
                old = ov.get(i, s[i])
                if old is None:  # placed now: its gaps to partners already timed
                    for j, w in self.pred[i]:
                        tj = ov.get(j, s[j])
                        if tj is not None and route_of[j] is not None and tj + w > e:
                            e = tj + w
                if e > new:
                    new = e
                if old is not None and new <= old:
                    if pos > idx:
                        changed = False
                        break
                    new = old
                if new > hard[i]:
                    return None
                if old is None or new > old:
                    ov[i] = new
                    for j, w in succ[i]:
                        kj = route_of[j]
                        if kj is None:
                            continue
                        need = new + w
                        if need > lb.get(j, ear[j]):
                            lb[j] = need
                            cur = ov.get(j, s[j])
                            if cur is not None and need > cur:
                                queue.append((kj, j))
                elif old is not None and i not in ov:
                    ov[i] = old
                t, prev = new + dur[i], node[i]
            if changed and t + T[prev][self.vend[k]] > self.ve[k]:
                return None
        # a visit timed before a partner pushed it is re-checked by the queue; one that was
        # never timed (its predecessor untimed at the time) cannot be left: every route start
        # is in ``starts`` for a full timing, and insertions start at the inserted visit
        return ov

    # ------------------------------------------------------------------ positions

    def _route_arrays(self, k: int):
        """Per insertion position of route ``k`` (before visit p; p = len: at the end), as
        lists: previous node and its end, next node and its start, the delay of the next
        visit that costs nothing (``free``), that breaks nothing (``hard``), and the late cost
        per second past ``free`` (an upper bound: the visits after it); and the route's load
        and service time."""
        r, s, node, dur, T = self.routes[k], self.s, self.node, self.dur, self.Tl
        lat, hard_, lcs, succ = self.lat, self.hard, self.lc, self.succ
        L = len(r)
        nodes = [node[i] for i in r]
        starts = [s[i] for i in r]
        prev_node = [self.vstart[k]] + nodes
        prev_end = [self.vs[k]] + [s[i] + dur[i] for i in r]
        end_at = prev_end[L] + T[prev_node[L]][self.vend[k]]
        next_node = nodes + [self.vend[k]]
        next_start = starts + [end_at]
        free = [0.0] * (L + 1)
        hard = [0.0] * (L + 1)
        slope = [0.0] * (L + 1)
        f, h, c = INF, float(self.ve[k] - end_at), 0.0
        free[L], hard[L] = f, h
        for p in range(L - 1, -1, -1):
            i = r[p]
            # waiting between visit p and what follows absorbs a delay of p
            after = next_start[p + 1] - (prev_end[p + 1] + T[nodes[p]][next_node[p + 1]])
            f += after
            h += after
            lc = lcs[i]
            if lc:
                room = lat[i] - starts[p]
                f = min(f, room if room > 0 else 0)
            room = hard_[i] - starts[p]
            if room < h:
                h = room
            if succ[i]:
                f = min(f, self._gap_room(i))  # past it, a partner moves too
                c += 1
            c += lc
            free[p], hard[p], slope[p] = f, h, c
        sums = (sum(self.load[i] for i in r), sum(dur[i] for i in r))
        return (prev_node, prev_end, next_node, next_start, free, hard, slope), sums

    def _gap_room(self, i: int) -> float:
        """How much later visit ``i`` may start before one of its gaps forces a partner to
        move (0 when one is already tight)."""
        room = INF
        for j, w in self.succ[i]:
            if self.route_of[j] is not None:
                room = min(room, self.s[j] - (self.s[i] + w))
        return max(0.0, room)

    def _positions(self, i: int):
        """Every insertion position of visit ``i`` on its allowed vehicles with room left,
        as arrays (rows of a table with a row of positions per route, refreshed where
        routes changed)."""
        if self._grid is None or self._dirty:
            self._refresh()
        ok = (self._left[0] >= self.load[i]) & (self._left[1] >= self.dur[i])
        if self.allowed[i] is not None:
            ok &= self._allowed_mask[i]
        keep = self._valid & ok[:, None]
        if not keep.any():
            return None
        return [col[keep] for col in self._grid]

    def _refresh(self) -> None:
        width = max(len(r) for r in self.routes) + 1
        if self._grid is None or width > self._grid[0].shape[1]:
            width = max(8, 2 * width)
            m = self.m
            self._grid = [np.zeros((m, width), dtype=np.int64) for _ in range(4)] + [
                np.zeros((m, width), dtype=np.float64) for _ in range(3)] + [
                np.repeat(np.arange(m, dtype=np.int64)[:, None], width, axis=1),
                np.repeat(np.arange(width, dtype=np.int64)[None, :], m, axis=0)]
            self._valid = np.zeros((m, width), dtype=bool)
            self._left = (np.zeros(m, dtype=np.int64), np.zeros(m, dtype=np.int64))
            self._dirty = set(range(m))
        for k in self._dirty:
            cols, (load, serv) = self._route_arrays(k)
            size = len(cols[0])
            for g, c in zip(self._grid[:7], cols):
                g[k, :size] = c
            self._valid[k, :] = False
            self._valid[k, :size] = True
            self._left[0][k] = self.cap[k] - load if self.cap[k] > 0 else 1 << 60
            self._left[1][k] = self.maxserv[k] - serv if self.maxserv[k] > 0 else 1 << 60
        self._dirty = set()

    def _invalidate(self, k: int) -> None:
        self._touched.add(k)
        self._dirty.add(k)

    def _price(self, i: int, pos, start):
        """Approximate cost of visit ``i`` at each position, started at ``start`` (array):
        arc change, its own lateness, the lateness it pushes onto the route; inf where it
        breaks a hard rule (as far as the arrays tell)."""
        prev_node, prev_end, next_node, next_start, free, hard, slope = pos[:7]
        v = self.node[i]
        arcs = self.C[prev_node, v] + self.C[v, next_node] - self.C[prev_node, next_node]
        delay = np.maximum(0, start + self.dur[i] + self.T[v, next_node] - next_start)
        cost = arcs + self.lc[i] * np.maximum(0, start - self.lat[i]) \
            + slope * np.maximum(0.0, delay - free)
        return np.where((delay <= hard) & (start <= self.hard[i]), cost, INF)

    def _arrival(self, i: int, pos):
        prev_node, prev_end = pos[0], pos[1]
        return np.maximum(prev_end + self.T[prev_node, self.node[i]], self.ear[i])

    # ------------------------------------------------------------------ exact moves

    def _try(self, placements: list[tuple[int, int, int]]):
        """Exact cost change of inserting each (visit, route, index) (distinct routes), with
        the new start overlay; None when infeasible. The routes are left as they were."""
        C, node = self.Cl, self.node
        delta = 0
        for i, k, p in placements:
            r = self.routes[k]
            a = self.vstart[k] if p == 0 else node[r[p - 1]]
            b = self.vend[k] if p == len(r) else node[r[p]]
            delta += C[a][node[i]] + C[node[i]][b] - C[a][b]
        for i, k, p in placements:
            self.routes[k].insert(p, i)
            self.route_of[i] = k
        try:
            ov = self._propagate(self.s, [(k, p) for _, k, p in placements])
        finally:
            for i, k, p in placements:
                self.routes[k].pop(p)
                self.route_of[i] = None
        if ov is None:
            return None
        for i, t in ov.items():
            old = self.s[i]
            lc = self.lc[i]
            if lc:
                delta += lc * (max(0, t - self.lat[i]) - (max(0, old - self.lat[i])
                                                          if old is not None else 0))
        return delta, ov

    def _commit(self, placements, ov) -> None:
        for i, k, p in placements:
            self.routes[k].insert(p, i)
            self.route_of[i] = k
            self._invalidate(k)
        for i, t in ov.items():
            if self.s[i] != t:
                self.s[i] = t
                self._invalidate(self.route_of[i])

    def _remove(self, requests: list[int]) -> bool:
        """Take ``requests`` out; re-time every route (times only move earlier)."""
        for q in requests:
            for i in self.requests[q]:
                k = self.route_of[i]
                if k is not None:
                    self.routes[k].remove(i)
                    self.route_of[i] = None
                    self._invalidate(k)
        return self._retime()

    def _retime(self) -> bool:
        starts = self._full_times()
        if starts is None:  # cannot happen with earliest times, but stay safe
            return False
        old = self.s
        for i in range(self.n):
            if starts[i] != old[i] and starts[i] is not None:
                self._invalidate(self.route_of[i])
        self.s = starts
        return True

    # ------------------------------------------------------------------ insertion

    def _insert_single(self, i: int) -> bool:
        pos = self._positions(i)
        if pos is None:
            return False
        start = self._arrival(i, pos)
        for j, w in self.pred[i]:
            if self.route_of[j] is not None:
                start = np.maximum(start, self.s[j] + w)
        price = self._price(i, pos, start)
        if self.plain and BLINK:
            price = np.where(self.rng.random(len(price)) < BLINK, INF, price)
        return self._exact_best(i, pos, price)

    def _exact_best(self, i, pos, price) -> bool:
        order = np.argsort(price, kind="stable")[:EXACT + FALLBACK]
        exact = 1 if self.exact_price else EXACT
        best = None
        for tried, c in enumerate(order):
            if not np.isfinite(price[c]) or (tried >= exact and best is not None):
                break
            k, p = int(pos[7][c]), int(pos[8][c])
            if any(self.route_of[j] == k for j in self.distinct[i]):
                continue
            got = self._try([(i, k, p)])
            if got is not None and (best is None or got[0] < best[0]):
                best = (got[0], [(i, k, p)], got[1])
        if best is None:
            return False
        self._commit(best[1], best[2])
        return True

    def _insert_pair(self, a: int, b: int) -> bool:
        """Both visits of a two-visit request at once, on two different routes."""
        pa, pb = self._positions(a), self._positions(b)
        if pa is None or pb is None:
            return False
        ea, eb = self._arrival(a, pa), self._arrival(b, pb)
        # lower bounds: each alone at its own earliest start
        la, lb_ = self._price(a, pa, ea), self._price(b, pb, eb)
        ia = np.argsort(la, kind="stable")[:PAIR_POOL]
        ib = np.argsort(lb_, kind="stable")[:PAIR_POOL]
        ia, ib = ia[np.isfinite(la[ia])], ib[np.isfinite(lb_[ib])]
        if len(ia) == 0 or len(ib) == 0:
            return False
        lo = hi = None
        for j, w in self.succ[a]:
            if j == b:
                lo = w if lo is None else max(lo, w)
        for j, w in self.succ[b]:
            if j == a:
                hi = -w if hi is None else min(hi, -w)
        lo = -INF if lo is None else lo
        hi = INF if hi is None else hi
        sa0, sb0 = ea[ia][:, None].astype(np.float64), eb[ib][None, :].astype(np.float64)
        # earliest starts of both with start(b) - start(a) in [lo, hi]
        sa = np.maximum(sa0, sb0 - hi)
        sb = np.maximum(sb0, sa + lo)
        sub_a = [c[ia] for c in pa]
        sub_b = [c[ib] for c in pb]
        cost = self._price_grid(a, sub_a, sa, 1) + self._price_grid(b, sub_b, sb, 0)
        same = sub_a[7][:, None] == sub_b[7][None, :]
        cost = np.where(same, INF, cost)
        flat = np.argsort(cost, axis=None, kind="stable")[:EXACT + FALLBACK]
        best = None
        for tried, f in enumerate(flat):
            x, y = divmod(int(f), len(ib))
            if not np.isfinite(cost[x, y]) or (tried >= EXACT and best is not None):
                break
            place = [(a, int(sub_a[7][x]), int(sub_a[8][x])),
                     (b, int(sub_b[7][y]), int(sub_b[8][y]))]
            got = self._try(place)
            if got is not None and (best is None or got[0] < best[0]):
                best = (got[0], place, got[1])
        if best is None:
            return False
        self._commit(best[1], best[2])
        return True

    def _price_grid(self, i: int, pos, start, axis: int):
        cols = [np.expand_dims(c, axis) for c in pos[:7]]
        return self._price(i, cols, start)

    def _insert(self, q: int) -> bool:
        members = self.requests[q]
        if len(members) == 2:
            a, b = members
            if any(j == b for j, _ in self.succ[a]) and self._insert_pair(a, b):
                return True
        placed = []
        for i in self._order(members):
            if not self._insert_single(i):
                if placed:
                    self._remove_visits(placed)
                return False
            placed.append(i)
        return True

    def _order(self, members: list[int]) -> list[int]:
        """Members with the ones that others follow (positive gaps into them) first."""
        return sorted(members, key=lambda i: (sum(1 for _, w in self.pred[i] if w > 0), i))

    def _remove_visits(self, visits: list[int]) -> None:
        for i in visits:
            k = self.route_of[i]
            if k is not None:
                self.routes[k].remove(i)
                self.route_of[i] = None
                self._invalidate(k)
        self._retime()

    # ------------------------------------------------------------------ ruin

    def _worth(self, q: int) -> float:
        """What request ``q`` costs where it is: the detours to its visits and their
        lateness."""
        total, C, node = 0.0, self.Cl, self.node
        for i in self.requests[q]:
            k = self.route_of[i]
            if k is None:
                continue
            r = self.routes[k]
            p = r.index(i)
            a = self.vstart[k] if p == 0 else node[r[p - 1]]
            b = self.vend[k] if p + 1 == len(r) else node[r[p + 1]]
            total += C[a][node[i]] + C[node[i]][b] - C[a][b]
            total += self.lc[i] * max(0, self.s[i] - self.lat[i])
        return total

    def _ruin(self, size: int) -> list[int]:
        rng, movable = self.rng, self.movable
        kind = rng.integers(5 if self.plain else 4)
        if kind == 4:
            return self._ruin_strings(size)
        if kind == 0:  # random requests
            picked = rng.choice(len(movable), size=size, replace=False)
            return [movable[int(x)] for x in picked]
        if kind == 1:  # the dearest ones (detour and lateness), with noise
            weight = np.array([self._worth(q) for q in movable], dtype=np.float64)
            weight = weight * rng.uniform(0.5, 1.5, len(weight)) + rng.uniform(0, 1, len(weight))
            return [movable[int(x)] for x in np.argsort(-weight, kind="stable")[:size]]
        if kind == 2:  # related: close in travel and in start time to a random one
            seed = movable[int(rng.integers(len(movable)))]
            i = self.requests[seed][0]
            rel = []
            for q in movable:
                j = self.requests[q][0]
                dt = abs((self.s[j] or self.ear[j]) - (self.s[i] or self.ear[i]))
                rel.append(self.Tl[self.node[i]][self.node[j]] + 0.5 * dt)
            rel = np.array(rel) * rng.uniform(0.8, 1.2, len(rel))
            return [movable[int(x)] for x in np.argsort(rel, kind="stable")[:size]]
        # whole routes, chosen near each other
        busy = [k for k in range(self.m) if self.routes[k]]
        if not busy:
            return []
        out: set[int] = set()
        k = busy[int(rng.integers(len(busy)))]
        order = sorted(busy, key=lambda x: (self._route_distance(k, x), x))
        movable_set = set(movable)
        for x in order:
            out.update(self.request_of[i] for i in self.routes[x]
                       if self.request_of[i] in movable_set)
            if len(out) >= size:
                break
        return sorted(out)

    def _ruin_strings(self, size: int) -> list[int]:
        """Strings of consecutive visits cut from several routes near a random visit (after
        SISR, Christiaens and Vanden Berghe 2020): the routes next to each other lose their
        neighbouring stretches, so recreate can rebuild them across route borders; long routes
        are what one-visit ruins hardly change."""
        rng, route_of = self.rng, self.route_of
        served = [i for i in range(self.n) if route_of[i] is not None
                  and self.request_of[i] in self._movable_set]
        if not served:
            return []
        busy = [len(r) for r in self.routes if r]
        longest = max(1, min(STRING_MAX, round(sum(busy) / len(busy))))
        routes_max = max(1, int(4 * size / (1 + longest)) - 1)
        routes_cut = int(rng.integers(1, routes_max + 1))
        seed = served[int(rng.integers(len(served)))]
        out: list[int] = []
        seen: set[int] = set()
        cut: set[int] = set()
        for j in self._neighbours()[seed]:
            k = route_of[j]
            if k is None or k in cut:
                continue
            cut.add(k)
            r = self.routes[k]
            length = int(rng.integers(1, min(len(r), longest) + 1))
            at = r.index(j)
            first = int(rng.integers(max(0, at - length + 1), min(at, len(r) - length) + 1))
            for i in r[first:first + length]:
                q = self.request_of[i]
                if q in self._movable_set and q not in seen:
                    seen.add(q)
                    out.append(q)
            if len(cut) >= routes_cut or len(out) >= 2 * size:
                break
        return out

    def _neighbours(self) -> list[list[int]]:
        """Per visit, the other visits nearest first (by travel time), computed once."""
        if self._near is None:
            nodes = np.array(self.node, dtype=np.int64)
            sub = self.T[nodes[:, None], nodes[None, :]]
            self._near = np.argsort(sub, axis=1, kind="stable").tolist()
        return self._near

    def _route_distance(self, a: int, b: int) -> float:
        ra, rb = self.routes[a], self.routes[b]
        if not ra or not rb:
            return INF
        ca = ra[len(ra) // 2]
        return min(self.Tl[self.node[ca]][self.node[j]] for j in rb)

    # ------------------------------------------------------------------ the search

    def rebuild(self) -> bool:
        """Every movable request taken out and put back, the largest first, then by the end
        of their windows; False when a mandatory one finds no place (the routes are then
        unusable)."""
        self._remove(self.movable)
        order = sorted(self.movable, key=lambda q: (-len(self.requests[q]),
                                                    min(self.lat[i] for i in self.requests[q]),
                                                    q))
        for q in order:
            if not self._insert(q) and any(self.drop[i] is None for i in self.requests[q]):
                return False
        self.cost = self._total()
        return True

    def run(self, time_limit_s: float, max_improvements: int = 0,
            max_steps: int = 0) -> tuple[list[list[int]], list, int]:
        """Ruin and recreate until the time limit; the best routes, their starts and cost."""
        began = time.perf_counter()
        best = ([list(r) for r in self.routes], list(self.s), self.cost)
        if not self.movable:
            return best
        current = self.cost
        improvements, step = 0, 0
        start_temp = self.temperature * max(1, current)
        while True:
            elapsed = time.perf_counter() - began
            if elapsed >= time_limit_s or (max_steps and step >= max_steps):
                break
            step += 1
            progress = elapsed / time_limit_s if time_limit_s > 0 else 1.0
            if max_steps:
                progress = max(progress, step / max_steps)
            size = int(self.rng.integers(2, max(3, min(self.max_ruin, len(self.movable) // 4 + 2))))
            size = min(size, len(self.movable))
            saved = ([list(r) for r in self.routes], list(self.route_of), list(self.s))
            self._touched = set()
            ruined = self._ruin(size)
            if not ruined or not self._remove(ruined):
                self._restore(saved)
                continue
            self.rng.shuffle(ruined)
            if self.plain:
                self._recreate_order(ruined)
            ruined.sort(key=lambda q: -len(self.requests[q]))
            ok = True
            for q in ruined:
                if not self._insert(q) and any(self.drop[i] is None for i in self.requests[q]):
                    ok = False
                    break
            if not ok:
                self._restore(saved)
                continue
            new = self._total()
            temp = start_temp * (1.0 - progress)
            if new < current or (temp > 0 and new < current + temp * self.rng.exponential()):
                current = new
                self.cost = new
                if new < best[2]:
                    best = ([list(r) for r in self.routes], list(self.s), new)
                    improvements += 1
                    if max_improvements and improvements >= max_improvements:
                        break
            else:
                self._restore(saved)
        self.steps = step
        return best

    def _recreate_order(self, ruined: list[int]) -> None:
        """Sort the (shuffled) ruined requests in place for recreate, as SISR varies it:
        random, the heaviest first, the farthest from the first vehicle's start first, or the
        tightest windows first."""
        kind = int(self.rng.integers(RECREATE_ORDERS))
        first = [self.requests[q][0] for q in ruined]
        if kind == 1:
            key = [-self.load[i] for i in first]
        elif kind == 2:
            home = self.vstart[0]
            key = [-self.Tl[home][self.node[i]] for i in first]
        elif kind == 3:
            key = [self.hard[i] - self.ear[i] for i in first]
        else:
            return
        order = sorted(range(len(ruined)), key=key.__getitem__)
        ruined[:] = [ruined[x] for x in order]

    def _restore(self, saved) -> None:
        routes, route_of, s = saved
        self.routes, self.route_of, self.s = routes, route_of, s
        self._dirty |= self._touched
        self._touched = set()


def improve(problem, solution, time_limit_s: float, seed: int = 0,
            max_improvements: int = 0, max_steps: int = 0):
    """``solution`` (a found :class:`matcher.routing.RoutingSolution`) improved by the search
    within ``time_limit_s``; never more expensive than ``solution``."""
    from matcher.routing import Route, RoutingSolution

    routes = [list(r.visits) for r in solution.routes]
    try:
        search = Search(problem, routes, seed)
    except ValueError:  # routes these earliest times cannot hold: leave them to OR-Tools
        return solution
    fresh = Search(problem, routes, seed, like=search)
    if fresh.rebuild() and fresh.cost < search.cost:
        search = fresh
    routes, starts, _ = search.run(time_limit_s, max_improvements, max_steps)
    C, node = search.Cl, search.node
    arc = late = 0
    out, served = [], set()
    for k, r in enumerate(routes):
        prev = search.vstart[k]
        for i in r:
            arc += C[prev][node[i]]
            prev = node[i]
            visit = problem.visits[i]  # priced as matcher.routing prices it, locked or not
            late += visit.late_cost * max(0, starts[i] - visit.latest)
            served.add(i)
        if r:
            arc += C[prev][search.vend[k]]
        out.append(Route(k, tuple(r), tuple(starts[i] for i in r)))
    dropped = tuple(i for i in range(search.n) if i not in served)
    if any(problem.visits[i].drop_cost is None for i in dropped):
        return solution
    drop = sum(problem.visits[i].drop_cost for i in dropped)
    found = RoutingSolution(tuple(out), dropped, arc, late, drop, True,
                            solution.first_solution_s)
    return found if found.cost <= solution.cost else solution
