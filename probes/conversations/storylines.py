"""Storylines: facts that unfold over a caller's calls, and the questions about them.

A storyline has `domains` (the agent each step needs: "clinic", "shop" or "any"), renders
step i into the current call (`render`), marking the turns that state a fact
(`ctx.mark(key, turn)`), and lists its questions (`questions`) as (category, question,
evidence turns). Evidence is every turn that states the answer (the caller's words, and the
agent's read-back when it repeats the value); for `updated` only the turns with the latest
value, for `temporal` the turns the time question points at.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from filler import MONTHS, ordinal

WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


@dataclass
class Ctx:
    call: object
    person: dict
    rng: object
    agent_name: str

    def pick(self, options):
        return self.rng.choice(options)

    def mark(self, key: str, turn: int) -> None:
        self.person.setdefault("evidence", {}).setdefault(key, []).append((self.call.id, turn))

    @property
    def today(self) -> dt.date:
        return self.call.start.date()

    @property
    def month(self) -> str:
        return MONTHS[self.call.start.month - 1]


def say_date(ctx: Ctx, day: dt.date) -> str:
    styles = [
        f"{WEEKDAYS[day.weekday()]} the {ordinal(day.day)}",
        f"{WEEKDAYS[day.weekday()]} the {ordinal(day.day)} of {MONTHS[day.month - 1]}",
        f"the {ordinal(day.day)} of {MONTHS[day.month - 1]}",
        f"{MONTHS[day.month - 1]} {ordinal(day.day)}",
    ]
    return ctx.pick(styles)


def say_time(ctx: Ctx, hour: int, minute: int) -> str:
    twelve = hour - 12 if hour > 12 else hour
    words = ["", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
             "eleven", "twelve"]
    options = [f"{hour}:{minute:02d}", f"{twelve}:{minute:02d}"]
    if minute == 30:
        options.append(f"half {words[twelve]}")
    if minute == 0:
        options.append(f"{words[twelve]} o'clock")
    return ctx.pick(options)


def weekday_after(ctx: Ctx, start: dt.date, low: int, high: int) -> dt.date:
    day = start + dt.timedelta(days=ctx.rng.randint(low, high))
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    return day


class Story:
    """Base: evidence lookup and question helpers."""

    name = "story"
    domains: list[str] = []

    def __init__(self, person: dict, rng):
        self.p = person
        self.rng = rng

    def render(self, index: int, ctx: Ctx) -> None:
        getattr(self, f"step{index}")(ctx)

    def ev(self, *keys: str) -> list:
        found = []
        for key in keys:
            found.extend(self.p.get("evidence", {}).get(f"{self.name}.{key}", []))
        return found

    def mark(self, ctx: Ctx, key: str, *turns: int) -> None:
        for turn in turns:
            ctx.mark(f"{self.name}.{key}", turn)

    def q(self, options) -> str:
        return self.rng.choice(options)

    def questions(self) -> list:
        return []


class Identity(Story):
    name = "identity"
    domains: list[str] = []

    def questions(self):
        dob = self.p.get("evidence", {}).get("dob", [])
        return [("single_hop", self.q(["caller's date of birth", "when was the caller born"]), dob)]


class GpAppointment(Story):
    name = "gp"
    domains = ["clinic", "clinic"]
    REASONS = [("a medication review", "review of their medicines"), ("a blood test", "bloods taken"),
               ("a general check-up", "routine physical"), ("a smear test", "cervical screening"),
               ("a follow-up about my blood pressure", "pressure readings")]

    def step0(self, ctx):
        self.reason, self.reason_para = ctx.pick(self.REASONS)
        self.first_day = weekday_after(ctx, ctx.today, 6, 20)
        self.first_time = (ctx.rng.choice([9, 10, 11, 14, 15, 16]), ctx.pick([0, 15, 30, 45]))
        self.booked_month = ctx.month
        gp = self.p["gp"]
        a, u = ctx.call.exchange(
            ctx.pick(["What can I help you with?", "Sure, what do you need?", "Go ahead."]),
            ctx.pick([f"I need to book {self.reason} with {gp}, please.",
                      f"Can I get in with {gp}? It's for {self.reason}.",
                      f"I'd like an appointment for {self.reason}. Ideally with {gp}, she knows me.",
                      f"{gp} asked me to come in for {self.reason}, so I need a slot."]))
        self.mark(ctx, "reason", u)
        day, time = say_date(ctx, self.first_day), say_time(ctx, *self.first_time)
        a, u = ctx.call.exchange(
            ctx.pick([f"I have {day} at {time}. Would that work?",
                      f"The first thing I've got is {day}, {time}.",
                      f"How about {day} at {time}?"]),
            ctx.pick(["Yes, that's fine, book it.", "Perfect, I'll take it.", "Lovely, that works."]))
        self.mark(ctx, "first", a, u)
        a2, u2 = ctx.call.exchange(
            ctx.pick([f"Done. That's {gp}, {day} at {time}.", f"Booked: {day}, {time}, with {gp}."]),
            ctx.pick(["Great, thank you.", "Brilliant.", "Thanks."]))
        self.mark(ctx, "first", a2)

    def step1(self, ctx):
        self.new_day = weekday_after(ctx, max(ctx.today, self.first_day - dt.timedelta(days=3)), 2, 9)
        if self.new_day == self.first_day:
            self.new_day += dt.timedelta(days=1)
        self.new_time = (ctx.rng.choice([8, 9, 12, 13, 16, 17]), ctx.pick([0, 10, 30, 40]))
        old = f"{WEEKDAYS[self.first_day.weekday()]}"
        new_day, new_time = say_date(ctx, self.new_day), say_time(ctx, *self.new_time)
        a, u = ctx.call.exchange(
            ctx.pick(["How can I help?", "What can I do for you?"]),
            ctx.pick([f"I can't make my appointment on {old} any more, something's come up at work. Can we move it?",
                      f"I need to rearrange my {old} appointment with {self.p['gp']}.",
                      f"Is it possible to change the time of my appointment? The {old} one."]))
        self.mark(ctx, "move_request", u)
        a, u = ctx.call.exchange(
            ctx.pick([f"I can offer {new_day} at {new_time} instead.", f"There's {new_day}, {new_time}. Any good?"]),
            ctx.pick(["Yes, move it to then, please.", "That's better, yes.", "Go on then, let's do that."]))
        self.mark(ctx, "new", a, u)

    def questions(self):
        gp = self.p["gp"]
        return [
            ("updated", self.q([f"when is the caller's appointment with {gp}",
                                "what day and time is the caller's GP appointment now"]), self.ev("new")),
            ("temporal", self.q([f"when was the caller's {self.reason.split(' about')[0].replace('a ', '', 1)} originally booked before they moved it",
                                 "what was the caller's appointment time before it was rescheduled"]),
             self.ev("first")),
            ("paraphrase", f"has the caller arranged any {self.reason_para}", self.ev("reason")),
            ("temporal", f"what GP appointment did the caller book in {self.booked_month}",
             self.ev("reason", "first")),
            ("multi_hop", self.q([f"who is the caller's {self.reason.split(' about')[0].replace('a ', '', 1)} with, and when is it now",
                                  "which doctor is the rescheduled appointment with"]),
             self.ev("reason", "new")),
        ]


class Specialist(Story):
    name = "specialist"
    domains = ["clinic", "clinic"]

    def step0(self, ctx):
        kind, long_name, problem = self.p["specialist"]["kind"]
        doctor = self.p["specialist"]["doctor"]
        self.day = weekday_after(ctx, ctx.today, 14, 40)
        a, u = ctx.call.exchange(
            "What's the call about today?",
            ctx.pick([f"I've been referred to {long_name} about {problem}. I think it's with {doctor}?",
                      f"My GP sent a referral to the {kind} people, for {problem}.",
                      f"So I'm having trouble with {problem} and I was told to book with {kind}."]))
        self.mark(ctx, "who", u)
        a, u = ctx.call.exchange(
            f"I can see the referral. {doctor} has {say_date(ctx, self.day)} in the afternoon.",
            ctx.pick(["Okay, put me down for that.", "Fine, yes.", "That'll do."]))
        self.mark(ctx, "who", a)
        self.mark(ctx, "booked", a, u)

    def step1(self, ctx):
        kind = self.p["specialist"]["kind"][0]
        a, u = ctx.call.exchange(
            "How can I help today?",
            ctx.pick([f"I need to cancel the {kind} appointment. It's cleared up on its own, honestly.",
                      f"Can you cancel my {kind} booking? I've gone private in the end.",
                      f"I won't need the {kind} appointment after all, please cancel it."]))
        self.mark(ctx, "cancel", u)
        a, u = ctx.call.exchange("No problem, I've cancelled that for you.", "Thanks.")
        self.mark(ctx, "cancel", a)

    def questions(self):
        kind, long_name, problem = self.p["specialist"]["kind"]
        return [
            ("updated", f"is the caller's {kind} appointment still going ahead", self.ev("cancel")),
            ("single_hop", f"which specialist was the caller referred to for {problem}", self.ev("who")),
            ("multi_hop", f"why did the caller cancel the appointment with {self.p['specialist']['doctor']}",
             self.ev("booked", "cancel")),
        ]


class Allergy(Story):
    name = "allergy"
    domains = ["clinic", "any"]

    def step0(self, ctx):
        allergen, ways, _ = self.p["allergy"]
        said = ctx.pick(ways)
        a, u = ctx.call.exchange(
            ctx.pick(["Are there any allergies I should add to your notes?",
                      "Before I book that, is there anything we should know medically?",
                      "Do you have any allergies we should be aware of?"]),
            ctx.pick([f"Yes, I'm allergic to {said}. Quite badly.",
                      f"Only {said}. I carry an EpiPen just in case.",
                      f"{said.capitalize()}. I found out the hard way years ago.",
                      f"Just {said}, I think it's already on my file."]))
        self.mark(ctx, "what", u)

    def step1(self, ctx):
        allergen, ways, _ = self.p["allergy"]
        a, u = ctx.call.exchange(
            "Is there anything else we should note?",
            ctx.pick([f"Only the usual, no {allergen} for me. Everything else is fine.",
                      f"Just remember the {allergen} thing. Otherwise nothing.",
                      "Not really. My friend reacts to everything but I'm fine mostly."]))
        if "friend" not in ctx.call.turns[u]["message"]:
            self.mark(ctx, "what", u)

    def questions(self):
        allergen, _, para = self.p["allergy"]
        return [
            ("single_hop", self.q(["does the caller have any allergies", "caller's allergies",
                                   "is the caller allergic to anything"]), self.ev("what")),
            ("paraphrase", self.q([f"should the caller be kept away from {para}",
                                   f"any reaction to {para} on record"]), self.ev("what")),
        ]


class Medication(Story):
    name = "medication"
    domains = ["clinic", "clinic"]

    def step0(self, ctx):
        drug, dose, _, condition, _ = self.p["medication"]
        self.first_month = ctx.month
        a, u = ctx.call.exchange(
            ctx.pick(["Are you taking any regular medication?", "What are you currently on, medication-wise?"]),
            ctx.pick([f"I'm on {drug}, {dose}, for my {condition}.".replace("my an ", "my "),
                      f"Just the {drug}. {dose.capitalize()}. It's for {condition}.",
                      f"{drug.capitalize()}, {dose}. I was diagnosed with {condition} a few years back."]))
        self.mark(ctx, "drug", u)
        self.mark(ctx, "first_dose", u)

    def step1(self, ctx):
        drug, _, dose, _, _ = self.p["medication"]
        a, u = ctx.call.exchange(
            "What do you need today?",
            ctx.pick([f"The doctor's upped my {drug}, it's {dose} now, so the repeat needs changing.",
                      f"My dose changed. I'm on {dose} of the {drug} from now on.",
                      f"They've increased my {drug} to {dose}. Can you update the prescription?"]))
        self.mark(ctx, "new_dose", u)
        self.mark(ctx, "drug", u)
        a, u = ctx.call.exchange(f"Okay, {drug}, {dose}. I've updated the repeat.", "Thanks.")
        self.mark(ctx, "new_dose", a)

    def questions(self):
        drug, _, _, condition, para = self.p["medication"]
        return [
            ("single_hop", self.q(["what medication is the caller on", "caller's regular medicines",
                                   "which drugs does the caller take regularly"]), self.ev("drug")),
            ("paraphrase", f"what does the caller take for their {para}", self.ev("drug")),
            ("updated", f"current dose of the caller's {drug}", self.ev("new_dose")),
            ("temporal", f"what dose of {drug} was the caller taking before it was increased", self.ev("first_dose")),
        ]


class Daughter(Story):
    name = "daughter"
    domains = ["any", "any"]

    def step0(self, ctx):
        d = self.p["daughter"]
        a, u = ctx.call.exchange(
            ctx.pick(["Sorry, is someone with you?", "I can hear someone in the background!"]),
            ctx.pick([f"That's my daughter, {d['name']}. She's {d['age']}, she's off school today.",
                      f"Ha, yes, my little girl {d['name']}. She's {d['age']} and very loud.",
                      f"It's {d['name']}, my daughter. {d['age']} going on thirty."]))
        self.mark(ctx, "name", u)
        self.mark(ctx, "age", u)

    def step1(self, ctx):
        d = self.p["daughter"]
        self.bday = ctx.today + dt.timedelta(days=ctx.rng.randint(10, 30))
        a, u = ctx.call.exchange(
            "Is there anything else coming up we should plan around?",
            ctx.pick([f"{d['name']}'s birthday is on {say_date(ctx, self.bday)}, we've got a party at the trampoline park.",
                      f"It's {d['name']}'s birthday {say_date(ctx, self.bday)}, so not that day please.",
                      f"{d['name']} turns {d['age'] + 1} on {say_date(ctx, self.bday)}. I'll be busy with the party."]))
        self.mark(ctx, "birthday", u)

    def questions(self):
        d = self.p["daughter"]
        return [
            ("single_hop", self.q(["name of the caller's daughter", "what is the caller's daughter called",
                                   "caller's daughter"]), self.ev("name")),
            ("paraphrase", self.q(["how old is the caller's little girl", "age of the caller's kid, the girl"]),
             self.ev("age")),
            ("multi_hop", "when is the caller's daughter's birthday", self.ev("name", "birthday")),
            ("single_hop", f"what is happening for {d['name']}'s birthday", self.ev("birthday")),
        ]


class Son(Story):
    name = "son"
    domains = ["any", "clinic"]

    def step0(self, ctx):
        s = self.p["son"]
        a, u = ctx.call.exchange(
            "How's the family?",
            ctx.pick([f"Oh, my son {s['name']}'s got exams, so it's a stressful house.",
                      f"Fine. {s['name']}, my eldest boy, is learning to drive, so pray for me.",
                      f"Busy. My lad {s['name']} has just started a new school."]))
        self.mark(ctx, "name", u)

    def step1(self, ctx):
        s = self.p["son"]
        self.day = weekday_after(ctx, ctx.today, 3, 12)
        a, u = ctx.call.exchange(
            "What can I do for you?",
            ctx.pick([f"I need to bring {s['name']} in for his vaccinations. Do you have anything {say_date(ctx, self.day)}?",
                      f"Can I book {s['name']} an asthma review? {say_date(ctx, self.day)} would be ideal.",
                      f"{s['name']} needs to see someone about his ankle. Is {say_date(ctx, self.day)} possible?"]))
        self.mark(ctx, "appointment", u)
        a, u = ctx.call.exchange(f"Yes, {say_date(ctx, self.day)} after school is fine for {s['name']}.", "Great.")
        self.mark(ctx, "appointment", a)

    def questions(self):
        return [
            ("single_hop", self.q(["what is the caller's son called", "name of the caller's son"]), self.ev("name")),
            ("multi_hop", "when is the caller's son booked in at the clinic", self.ev("name", "appointment")),
        ]


class Parent(Story):
    name = "parent"
    domains = ["any", "any"]

    def step0(self, ctx):
        m = self.p["parent"]
        a, u = ctx.call.exchange(
            "Are you alright? You sound tired.",
            ctx.pick([f"My {m['word']}, {m['name']}, had a fall last week and broke her wrist. I've been back and forth to the hospital.",
                      f"It's been a week. {m['name']}, my {m['word']}, slipped on the ice and fractured her wrist.",
                      f"Family stuff. My {m['word']} fell and broke her wrist, so I'm looking after her."]))
        self.mark(ctx, "fall", u)
        if m["name"] in ctx.call.turns[u]["message"]:
            self.mark(ctx, "name", u)

    def step1(self, ctx):
        m = self.p["parent"]
        self.month = ctx.month
        a, u = ctx.call.exchange(
            "How is everyone at home?",
            ctx.pick([f"{m['name']}'s cast is off, and she's moving into sheltered housing next month.",
                      f"My {m['word']}'s much better, thanks. The cast came off and she's driving again.",
                      f"Better. {m['name']} is staying with us while her flat gets a stairlift."]))
        self.mark(ctx, "later", u)
        if m["name"] in ctx.call.turns[u]["message"]:
            self.mark(ctx, "name", u)

    def questions(self):
        word = self.p["parent"]["word"]
        other = {"mum": "mother", "mother": "mum", "mam": "mother"}[word]
        return [
            ("paraphrase", f"what happened to the caller's {other}", self.ev("fall")),
            ("temporal", f"what did the caller say in {getattr(self, 'month', 'May')} about their {other}", self.ev("later")),
            ("single_hop", f"name of the caller's {other}", self.ev("name")),
        ]


class Pets(Story):
    name = "pets"
    domains = ["any", "shop", "any"]
    ITEMS = {"dog": ["a new lead", "a chew-proof bed", "grain-free kibble"],
             "cat": ["a scratching post", "a cat flap", "the salmon pouches"],
             "rabbit": ["a bigger hutch", "timothy hay"], "parrot": ["a bigger cage", "seed mix"]}

    def step0(self, ctx):
        pet = self.p["pets"][0]
        a, u = ctx.call.exchange(
            ctx.pick(["Sorry, was that barking?", "Is that your pet I can hear?", "Do you have any pets at home?"]),
            ctx.pick([f"Yes, that's our {pet['species']}, {pet['name']}. A {pet['breed']}, very nosy.",
                      f"That's {pet['name']}, our {pet['breed']} {pet['species']}. Ignore him.",
                      f"Oh, {pet['name']}. {pet['breed'].capitalize()}. We got her from a rescue last year."]))
        self.mark(ctx, "first_name", u)
        self.mark(ctx, "first_breed", u)

    def step1(self, ctx):
        pet = self.p["pets"][0]
        self.item = ctx.pick(self.ITEMS[pet["species"]])
        a, u = ctx.call.exchange(
            "What are you after today?",
            ctx.pick([f"I want to order {self.item} for {pet['name']}.",
                      f"Have you got {self.item} in stock? It's for {pet['name']}.",
                      f"{pet['name']} has destroyed everything again, so I need {self.item}."]))
        self.mark(ctx, "item", u)
        ctx.person.setdefault("ordered_in", {}).setdefault(ctx.month, []).append((ctx.call.id, u))

    def step2(self, ctx):
        pet = self.p["pets"][1]
        a, u = ctx.call.exchange(
            "Anything else at home I should know about for the delivery?",
            ctx.pick([f"We've also got a {pet['species']}, {pet['name']}, so keep the gate shut.",
                      f"Just that {pet['name']}, the {pet['species']}, tries to escape when the door opens.",
                      f"There's {pet['name']}, our {pet['breed']}. She's harmless."]))
        self.mark(ctx, "second", u)

    def questions(self):
        first, second = self.p["pets"]
        return [
            ("single_hop", self.q([f"caller's {first['species']}'s name", f"what is the caller's {first['species']} called"]),
             self.ev("first_name")),
            ("paraphrase", f"what breed is the caller's {first['paraphrase']}", self.ev("first_breed")),
            ("multi_hop", f"what did the caller order for their {first['species']}", self.ev("first_name", "item")),
            ("single_hop", self.q(["does the caller have any other pets", f"name of the caller's {second['species']}"]),
             self.ev("second")),
        ]


class Order(Story):
    """An order placed (with its number), a problem, then a refund or a replacement."""

    domains = ["shop", "shop", "shop"]

    def __init__(self, person, rng, index):
        super().__init__(person, rng)
        self.index = index
        self.name = f"order{index}"
        self.product, self.price, self.para = person["products"][index]
        self.number = person["order_numbers"][index]
        self.gift = index == 1

    def step0(self, ctx):
        self.month = ctx.month
        for_whom = f" It's a present for {self.p['partner']['name']}." if self.gift else ""
        a, u = ctx.call.exchange(
            ctx.pick(["What can I help you with?", "How can I help?"]),
            ctx.pick([f"I placed an order for a {self.product} this morning, the number's {self.number}. Just checking it went through.{for_whom}",
                      f"I've just ordered the {self.product}, order {self.number}, and I want to know when it'll come.{for_whom}",
                      f"Hi, it's about order {self.number}. The {self.product}.{for_whom} Can you confirm the delivery?"]))
        self.mark(ctx, "placed", u)
        self.eta = weekday_after(ctx, ctx.today, 3, 8)
        a, u = ctx.call.exchange(
            f"Yes, order {self.number}, one {self.product}, {self.price} pounds. It's due {say_date(ctx, self.eta)}.",
            ctx.pick(["Great, thanks.", "Lovely.", "Okay, good."]))
        self.mark(ctx, "placed", a)
        ctx.person.setdefault("ordered_in", {}).setdefault(ctx.month, []).extend(
            [(ctx.call.id, u), (ctx.call.id, a)])
        if self.rng.random() < 0.6:
            other = self.p["products"][2][0]
            ctx.call.exchange("Was there anything else you were looking at?",
                              f"I did look at the {other} but I'll leave it for now.")

    def step1(self, ctx):
        problem, _ = self.p["problem"] if self.index == 0 else ("was the wrong size", "wrong size")
        a, u = ctx.call.exchange(
            "What seems to be the problem?",
            ctx.pick([f"The {self.product} {problem}. Order {self.number}.",
                      f"My order, {self.number}, the {self.product}, {problem}. I'm not happy.",
                      f"So the {self.product} {problem}, and I'd like it sorted."]))
        self.mark(ctx, "problem", u)

    def step2(self, ctx):
        self.refunded = self.index == 0 or self.rng.random() < 0.5
        if self.refunded:
            user = ctx.pick([f"I can see the refund came through for the {self.product}, {self.price} pounds. Thanks for that.",
                             f"Just confirming I got my money back, {self.price} pounds, for order {self.number}.",
                             f"The refund for the {self.product} has landed, so we're all square."])
        else:
            user = ctx.pick([f"The replacement {self.product} arrived yesterday and it's fine this time.",
                             f"You sent a new {self.product} and that one's perfect, thank you.",
                             f"Order {self.number} was replaced and the new one is right."])
        a, u = ctx.call.exchange("How can I help today?", user)
        self.mark(ctx, "outcome", u)

    def questions(self):
        out = [
            ("single_hop", self.q([f"order number for the caller's {self.product}",
                                   f"what is the caller's {self.product} order number"]), self.ev("placed")),
            ("temporal", f"what did the caller order in {self.month}",
             self.p["ordered_in"][self.month]),
            ("updated", f"what is the latest on the caller's order {self.number}", self.ev("outcome")),
            ("paraphrase", f"what went wrong with {self.para} the caller bought", self.ev("problem")),
            ("multi_hop", f"how was the problem with the caller's {self.month} order resolved",
             self.ev("placed", "outcome")),
        ]
        if self.gift:
            word = self.p["partner"]["word"]
            out.append(("multi_hop", f"what did the caller buy for their {word}", self.ev("placed")
                        + self.p.get("evidence", {}).get("partner.name", [])))
        return out


class Partner(Story):
    name = "partner"
    domains = ["any"]

    def step0(self, ctx):
        part = self.p["partner"]
        a, u = ctx.call.exchange(
            ctx.pick(["Can anyone else collect or speak on your behalf?", "Is there a second contact for the account?"]),
            ctx.pick([f"Yes, my {part['word']}, {part['name']}. Put {part['name']} down.",
                      f"{part['name']}, that's my {part['word']}. Same address.",
                      f"My {part['word']} {part['name']} can, if I'm at work."]))
        self.mark(ctx, "name", u)

    def questions(self):
        word = self.p["partner"]["word"]
        para = {"husband": "who is the caller married to", "wife": "who is the caller married to",
                "partner": "who is the caller's other half"}[word]
        return [
            ("single_hop", f"name of the caller's {word}", self.ev("name")),
            ("paraphrase", para, self.ev("name")),
        ]


def address(home: dict, postcode: str) -> str:
    return f"{home['number']} {home['street']}, {home['town'][0]}, {postcode}"


class Home(Story):
    name = "home"
    domains = ["shop", "any"]

    def step0(self, ctx):
        old = self.p["home_old"]
        self.old_code = f"{old['town'][1]} {ctx.rng.randint(1, 9)}{ctx.pick('ABDEFGHJ')}{ctx.pick('LNPQRTUW')}"
        a, u = ctx.call.exchange(
            "And what's the delivery address?",
            ctx.pick([f"{address(old, self.old_code)}.", f"It's {address(old, self.old_code)}, the blue door.",
                      f"Home, so {address(old, self.old_code)}."]))
        self.mark(ctx, "old", u)

    def step1(self, ctx):
        new = self.p["home_new"]
        code = f"{new['town'][1]} {ctx.rng.randint(1, 9)}{ctx.pick('ABDEFGHJ')}{ctx.pick('LNPQRTUW')}"
        a, u = ctx.call.exchange(
            "Is there anything to update on your account?",
            ctx.pick([f"Yes, we've moved! New address is {address(new, code)}.",
                      f"We moved house last month, it's {address(new, code)} now.",
                      f"My address has changed. {address(new, code)}. We finally left {self.p['home_old']['town'][0]}."]))
        self.mark(ctx, "new", u)
        a, u = ctx.call.exchange(f"I've changed it to {address(new, code)}.", "Perfect.")
        self.mark(ctx, "new", a)

    def questions(self):
        return [
            ("updated", self.q(["caller's current address", "where does the caller live now",
                                "delivery address for the caller"]), self.ev("new")),
            ("temporal", "where did the caller live before they moved", self.ev("old")),
            ("paraphrase", "which city has the caller relocated to", self.ev("new")),
        ]


class Trip(Story):
    name = "trip"
    domains = ["shop", "shop"]

    def step0(self, ctx):
        t = self.p["trip"]
        first, _ = t["pair"]
        sib = self.p["sibling"]
        a, u = ctx.call.exchange(
            "You mentioned some travel?",
            ctx.pick([f"Yes, we're going to {first} in {t['month']} for {t['reason']}, with my {sib['word']} {sib['name']}.",
                      f"{first}, in {t['month']}! It's {t['reason']}. My {sib['word']} {sib['name']} is coming too.",
                      f"We've booked {first} for {t['month']}, {t['reason']}. Me and {sib['name']}, my {sib['word']}."]))
        self.mark(ctx, "first", u)
        seat = self.p["seat"]
        a, u = ctx.call.exchange(
            "Any seating preference for the flights?",
            ctx.pick([f"{seat.capitalize()} seat, always.", f"I like the {seat}, please.",
                      f"{'Aisle, my knees need the room' if seat == 'aisle' else 'Window, I like to sleep against it'}."]))
        self.mark(ctx, "seat", u)

    def step1(self, ctx):
        t = self.p["trip"]
        first, second = t["pair"]
        a, u = ctx.call.exchange(
            "What can I do for you?",
            ctx.pick([f"Change of plan, we're not going to {first} any more, it's {second} instead.",
                      f"We've switched the {t['month']} trip to {second}. {first} fell through.",
                      f"Forget {first}. We're doing {second} now, same dates."]))
        self.mark(ctx, "new", u)

    def questions(self):
        t = self.p["trip"]
        return [
            ("updated", f"where is the caller travelling in {t['month']}", self.ev("new")),
            ("temporal", "where was the caller originally planning to go on holiday", self.ev("first")),
            ("single_hop", f"why is the caller going away in {t['month']}", self.ev("first")),
            ("paraphrase", "does the caller prefer to sit by the window or next to the gangway on planes", self.ev("seat")),
            ("single_hop", "who is travelling with the caller", self.ev("first")),
        ]


class Contact(Story):
    name = "contact"
    domains = ["any", "any"]

    def step0(self, ctx):
        channel = self.p["channels"][0]
        time, _ = self.p["time"]
        a, u = ctx.call.exchange(
            "How would you like us to contact you?",
            ctx.pick([f"By {channel[0]} please, rather than ringing. And {time} is best.",
                      f"{channel[1].capitalize()} is easiest. If you must call, {time}.",
                      f"Send me {channel[1]}. I'm only free {time}."]))
        self.mark(ctx, "first", u)
        self.mark(ctx, "time", u)

    def step1(self, ctx):
        channel = self.p["channels"][1]
        a, u = ctx.call.exchange(
            "Are your contact preferences still the same?",
            ctx.pick([f"Actually no, use {channel[0]} from now on.",
                      f"Can you change it to {channel[1]}? I've stopped checking the other one.",
                      f"{channel[2]} is better now, please update that."]))
        self.mark(ctx, "new", u)

    def questions(self):
        _, para = self.p["time"]
        return [
            ("updated", self.q(["how does the caller want to be contacted", "caller's preferred contact method",
                                "best way to reach the caller"]), self.ev("new")),
            ("temporal", "how did the caller first ask to be contacted", self.ev("first")),
            ("paraphrase", f"is it okay to phone the caller {para}", self.ev("time")),
        ]


class Diet(Story):
    name = "diet"
    domains = ["any"]

    def step0(self, ctx):
        diet, _ = self.p["diet"]
        a, u = ctx.call.exchange(
            ctx.pick(["We're putting together the welcome hamper. Anything you don't eat?",
                      "For the catering, any dietary needs?"]),
            ctx.pick([f"I'm {diet}.", f"Yes, I'm {diet}, so check the labels.", f"Well, I'm {diet} these days."]))
        self.mark(ctx, "diet", u)

    def questions(self):
        _, para = self.p["diet"]
        return [("paraphrase", self.q(["does the caller follow any particular way of eating",
                                       "anything the caller won't eat"]), self.ev("diet"))]


class Job(Story):
    name = "job"
    domains = ["any"]

    def step0(self, ctx):
        job, _ = self.p["job"]
        a, u = ctx.call.exchange(
            ctx.pick(["Sorry, did I catch you at a bad time?", "Are you at work?"]),
            ctx.pick([f"Sort of, I'm {job}, so my hours are all over the place.",
                      f"I'm on a break. I work as {job}.",
                      f"No, it's fine. Being {job}, I'm used to odd hours."]))
        self.mark(ctx, "job", u)

    def questions(self):
        _, para = self.p["job"]
        return [
            ("single_hop", self.q(["what does the caller do for work", "caller's job", "caller's occupation"]),
             self.ev("job")),
            ("paraphrase", f"is the caller someone who {para}", self.ev("job")),
        ]


class Pharmacy(Story):
    name = "pharmacy"
    domains = ["clinic", "clinic"]
    PLACES = ["the Boots on the high street", "Lloyds by the station", "the Co-op pharmacy",
              "Wellbeing Chemist on Park Road", "the Superdrug in the shopping centre", "Greenway Pharmacy"]

    def __init__(self, person, rng):
        super().__init__(person, rng)
        self.first, self.second = rng.sample(self.PLACES, 2)

    def step0(self, ctx):
        a, u = ctx.call.exchange("Where should we send your prescription?",
                                 ctx.pick([f"To {self.first}, please.", f"{self.first.capitalize()}, as usual."]))
        self.mark(ctx, "first", u)

    def step1(self, ctx):
        a, u = ctx.call.exchange(
            "Anything else for the prescription?",
            ctx.pick([f"Yes, I've switched chemists. Send it to {self.second} from now on.",
                      f"Please move my repeats to {self.second}, it's closer to the new place.",
                      f"{self.second.capitalize()} from now on, not the old one."]))
        self.mark(ctx, "new", u)

    def questions(self):
        return [
            ("updated", "which pharmacy should the caller's prescriptions go to", self.ev("new")),
            ("temporal", "which chemist did the caller use before switching", self.ev("first")),
        ]


STORYLINES = [
    GpAppointment, Specialist, Allergy, Medication, Daughter, Son, Parent, Pets, Partner,
    lambda p, r: Order(p, r, 0), lambda p, r: Order(p, r, 1), Home, Trip, Contact, Diet, Job,
    Pharmacy, Identity,
]
