#!/usr/bin/env python3
"""Generates the conversational recall probe: phone calls between callers and voice agents,
and questions labelled with the turns that answer them.

Deterministic (seeded), Python 3.11 standard library only. Run from anywhere:

    python3 probes/conversations/generate.py            # writes calls.jsonl, questions.jsonl
    python3 probes/conversations/generate.py --check    # regenerates in memory, compares

Design: every caller has a persona (family, pets, health, orders, home, plans). Storylines
(an appointment booked then moved, an order delivered then refunded, a trip changed, ...) are
spread over the caller's calls in time order; each step renders a few exchanges in one of
many wordings and records which turns state which fact. Filler exchanges (greetings, checks,
hold, small talk that names look-alike things) pad every call. Questions are written last,
from the storylines' state, with the evidence turns the steps recorded.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sys
from pathlib import Path

from personas import CALLERS, persona
from storylines import STORYLINES, Ctx
from filler import closing, filler_exchange, opening

SEED = 13
START = dt.datetime(2026, 1, 5, tzinfo=dt.timezone.utc)
DAYS = 300  # calls spread over about ten months
AGENTS = {
    "clinic": ("agent_rvs0clinic7k2m9q4t1w8x5z3b", "Riverside Family Clinic"),
    "shop": ("agent_nwd0store3p8r6v2y9c4h7j1n", "Northwind Home & Travel"),
}
HERE = Path(__file__).resolve().parent
ALNUM = "0123456789abcdefghjkmnpqrstvwxyz"


def conversation_id(rng: random.Random) -> str:
    return "conv_" + "".join(rng.choice(ALNUM) for _ in range(26))


class Call:
    """One call being written: turns alternate agent/user, the agent speaks first."""

    def __init__(self, caller: dict, domain: str, start: dt.datetime, rng: random.Random):
        self.caller = caller
        self.domain = domain
        self.start = start
        self.id = conversation_id(rng)
        self.turns: list[dict] = []
        self.clock = 0
        self.rng = rng

    def say(self, role: str, message: str) -> int:
        expected = "agent" if len(self.turns) % 2 == 0 else "user"
        assert role == expected, (role, expected, message)
        self.turns.append({"role": role, "message": message, "time_in_call_secs": self.clock})
        self.clock += 2 + len(message) // 14 + self.rng.randint(0, 4)
        return len(self.turns) - 1

    def exchange(self, agent: str, user: str) -> tuple[int, int]:
        return self.say("agent", agent), self.say("user", user)


def plan_calls(rng: random.Random, count: int) -> list[tuple[dt.datetime, str]]:
    """Call times (business hours, sorted) and the agent each call reaches."""
    days = sorted(rng.sample(range(DAYS), count))
    calls = []
    for day in days:
        start = START + dt.timedelta(days=day, hours=rng.randint(8, 17), minutes=rng.randint(0, 59))
        calls.append((start, rng.choice(["clinic", "shop"])))
    return calls


def assign(rng: random.Random, storylines: list, slots: list[str]) -> list[list[tuple]]:
    """Places each storyline's steps on calls of the right agent, in time order, one step of a
    storyline per call, at most three steps per call (longest storylines first, random
    placements retried until all fit). Returns per call the (storyline, step index) to render."""
    order = sorted(storylines, key=lambda s: -len(s.domains))
    for attempt in range(500):
        capacity = 3 if attempt < 400 else 4
        per_call: list[list[tuple]] = [[] for _ in slots]
        ok = True
        for story in order:
            position = 0
            steps = len(story.domains)
            for index, domain in enumerate(story.domains):
                last = len(slots) - (steps - index - 1)
                candidates = [
                    i for i in range(position, last)
                    if (domain == "any" or slots[i] == domain) and len(per_call[i]) < capacity
                ]
                if not candidates:
                    ok = False
                    break
                # spread the steps: pick within the first part of what is left
                pick = candidates[rng.randint(0, max(0, (len(candidates) - 1) // max(1, steps - index)))]
                per_call[pick].append((story, index))
                position = pick + 1
            if not ok:
                break
        if ok:
            return per_call
    raise RuntimeError("storylines do not fit the calls")


def build_caller(number: int, rng: random.Random) -> tuple[list[dict], list[dict]]:
    person = persona(number, rng)
    stories = [make(person, rng) for make in STORYLINES]
    stories = [s for s in stories if s is not None]
    times = plan_calls(rng, 18)
    slots = [domain for _, domain in times]
    per_call = assign(rng, stories, slots)
    calls = []
    for (start, _), domain, steps in zip(times, slots, per_call):
        call = Call(person, domain, start, rng)
        ctx = Ctx(call=call, person=person, rng=rng, agent_name=AGENTS[domain][1])
        opening(ctx)
        fillers = rng.randint(2, 4)
        rng.shuffle(steps)
        first = {}
        for position, (story, _) in enumerate(steps):
            first.setdefault(id(story), position)
        steps.sort(key=lambda s: (first[id(s[0])], s[1]))  # a story's steps stay in order
        for story, index in steps:
            story.render(index, ctx)
            if fillers and rng.random() < 0.6:
                filler_exchange(ctx)
                fillers -= 1
        target = rng.randint(18, 34)  # the closing adds three turns
        while len(call.turns) < target or fillers > 0:
            filler_exchange(ctx)
            fillers = max(0, fillers - 1)
        closing(ctx)
        agent_id, _ = AGENTS[domain]
        calls.append({
            "caller": person["id"],
            "caller_number": person["phone"],
            "conversation_id": call.id,
            "agent_id": agent_id,
            "start_time_unix_secs": int(start.timestamp()),
            "turns": call.turns,
        })
    questions, asked = [], set()
    for story in stories:
        for category, question, evidence in story.questions():
            if evidence and question not in asked:
                asked.add(question)
                questions.append({
                    "caller": person["id"],
                    "question": question,
                    "category": category,
                    "evidence": [{"conversation_id": c, "turn": t} for c, t in sorted(set(evidence))],
                })
    return calls, questions


def generate() -> tuple[str, str]:
    rng = random.Random(SEED)
    all_calls, all_questions = [], []
    for number in range(len(CALLERS)):
        calls, questions = build_caller(number, random.Random(rng.getrandbits(64)))
        all_calls.extend(calls)
        all_questions.extend(questions)
    for index, question in enumerate(all_questions):
        question["id"] = f"q{index + 1:04d}"
    order = ["id", "caller", "question", "category", "evidence"]
    calls_text = "".join(json.dumps(c, ensure_ascii=False) + "\n" for c in all_calls)
    questions_text = "".join(
        json.dumps({k: q[k] for k in order}, ensure_ascii=False) + "\n" for q in all_questions
    )
    return calls_text, questions_text


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with the committed files")
    args = parser.parse_args()
    calls, questions = generate()
    files = {HERE / "calls.jsonl": calls, HERE / "questions.jsonl": questions}
    if args.check:
        stale = [p.name for p, text in files.items() if not p.exists() or p.read_text() != text]
        if stale:
            print("out of date: " + ", ".join(stale), file=sys.stderr)
            return 1
        return 0
    for path, text in files.items():
        path.write_text(text)
    n_calls = calls.count("\n")
    n_turns = sum(len(json.loads(line)["turns"]) for line in calls.splitlines())
    n_questions = questions.count("\n")
    print(f"{n_calls} calls, {n_turns} turns, {n_questions} questions", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
