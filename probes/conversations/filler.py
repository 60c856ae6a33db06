"""Turns that are not evidence: greetings, identity checks, hold, confirmations, small talk.

Small talk names look-alike things on purpose (a neighbour's dog, a friend's allergy, a
colleague's holiday) so that a retriever matching words alone finds wrong turns.
"""

from __future__ import annotations

GREETINGS = [
    "Hello, you're through to {agent}, this is Ava. How can I help today?",
    "Good {part}, {agent}, Ava speaking. What can I do for you?",
    "Thanks for calling {agent}. My name's Ava. How can I help?",
    "Hi there, {agent} here, you're speaking with Ava. What are you calling about today?",
    "{agent}, good {part}. This is Ava, the virtual assistant. How can I help you?",
]
REASONS = [
    "Hi, yes, it's {first} {last_initial}... {first}. I've got a couple of things actually.",
    "Hello. Um, I'm hoping you can help me with something.",
    "Hi Ava. I'm calling about a few bits, if that's alright.",
    "Yes hello, sorry, I was on hold for a bit there. I need to sort something out.",
    "Hiya. Right, let me find my notes. Okay, yes.",
    "Morning. I'll try to be quick, I'm on my lunch break.",
    "Hello, it's {first} again. Sorry to bother you.",
]
CHECKS = [
    ("Before we start, can I take your full name and date of birth?", "Sure, {name}, {dob}."),
    ("Could you confirm your name and date of birth for me, please?", "Yes, it's {name}. Born {dob}."),
    ("For security, what's your date of birth?", "{dob}."),
]
FILLERS = [
    ("Let me just pull up your record. One moment.", "No problem."),
    ("Bear with me while I check that.", "Sure, take your time."),
    ("Okay, I can see your account here.", "Great."),
    ("Sorry, the line dropped for a second. Could you say that again?", "I said that's fine, go ahead."),
    ("Can you hold for a few seconds?", "Yes, of course."),
    ("Thanks for waiting.", "That's okay."),
    ("Is this still the best number to reach you on?", "Yes, this number is fine."),
    ("How has your week been?", "Oh, busy, you know how it is. Looking forward to the weekend."),
    ("Lovely weather we're having, isn't it?", "Is it? It's been pouring here all morning."),
    ("Sorry, it's a bit noisy on your end, are you outside?", "Yeah, I'm walking to the shops, sorry about that."),
    ("Just to let you know, this call may be recorded for quality.", "That's fine."),
    ("I'm still here, the system's a little slow today.", "Ha, tell me about it. Mine's the same at work."),
    ("Did you get our last email?", "I might have, I don't really check my inbox much. Doesn't matter."),
    ("Okay, got it.", "Brilliant."),
    ("Right, I've noted that down.", "Thanks."),
    ("Anything else on that?", "No, I think that covers it."),
    ("Our neighbours' dog kept me awake, so forgive me if I'm slow today!",
     "Ha! Ours has one too, a yappy little thing next door. Never stops."),
    ("Are you keeping well?", "Not bad, thanks. My friend's been poorly though, she's allergic to everything."),
    ("Have you got anything nice planned?", "My colleague's off to Greece next week, I'm just jealous really."),
    ("Sorry, could you spell that for me?", "Oh, never mind, it's not important."),
    ("I'll just read that back to make sure I've got it right.", "Go for it."),
    ("That should all be updated now.", "Perfect, thank you."),
    ("Is there a reference you'd like me to give you?", "No, I don't need one, thanks."),
    ("Sorry, I missed that. Was that a yes?", "Yes, sorry. Yes."),
    ("You sound a bit under the weather.", "Just a cold. Everyone at work has had it."),
    ("Did you manage to find parking alright last time?", "Oh, it was a nightmare, but I got there in the end."),
    ("My colleague mentioned your name came up earlier.", "Oh? Probably about the same thing, don't worry."),
    ("I hope the traffic's been kind to you.", "The roadworks on the bypass are awful, honestly."),
    ("We sent a text reminder about this, did it arrive?", "I think so, I haven't looked at my phone."),
    ("Deliveries are running a day late this week, just so you know.", "Oh, okay. Not a problem."),
    ("The clinic is closed on the bank holiday Monday.", "Right, good to know."),
    ("I see you've called a few times this month.", "Ha, yes, sorry, it's been one of those months."),
    ("Just a reminder that repeat prescriptions need 48 hours.", "Yes, I know, I always forget."),
    ("Is that a dog I can hear?", "That's next door's, they've got a new puppy."),
    ("We've got a promotion on garden furniture at the moment.", "Maybe another time."),
    ("Would you like a receipt emailed over?", "No, don't worry about it."),
    ("Sorry, can I put you on speaker? I'm writing this down.", "Yes, of course."),
    ("A colleague will call you back if anything changes.", "Okay, thanks."),
    ("Did your last visit go alright?", "It was fine, just a lot of waiting around."),
    ("Sorry, is that two words or one?", "Two words."),
    ("You're breaking up a little.", "Sorry, is that better? I've moved rooms."),
    ("My screen has just refreshed, one second.", "No rush."),
    ("Have you been with us long?", "Years. Since before the new building opened."),
    ("The weather's supposed to turn nasty on Friday.", "Typical, that's when we've got people over."),
    ("We're getting a lot of calls about flu jabs this week.", "I bet. My friend's already had hers."),
    ("Someone called about an order just like yours earlier!", "Ha, great minds."),
]
ANYTHING_ELSE = [
    "Is there anything else I can help with today?",
    "Was there anything else?",
    "Anything else I can do for you?",
    "Is that everything for today?",
]
NO_THANKS = [
    "No, that's all, thanks.",
    "No, that's everything. Thank you so much.",
    "I think that's it. Thanks for your help.",
    "Nope, all done. Cheers.",
    "That's all for now, thank you.",
]
GOODBYES = [
    "You're welcome, {first}. Have a lovely day. Goodbye.",
    "Thanks for calling. Take care, bye now.",
    "No problem at all. Bye for now.",
    "Lovely, speak soon. Goodbye.",
]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December"]


def ordinal(day: int) -> str:
    suffix = "th" if 11 <= day % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


def spoken_dob(dob: tuple[int, int, int]) -> str:
    year, month, day = dob
    return f"the {ordinal(day)} of {MONTHS[month - 1]}, {year}"


def opening(ctx) -> None:
    hour = ctx.call.start.hour
    part = "morning" if hour < 12 else "afternoon"
    person = ctx.person
    ctx.call.exchange(
        ctx.pick(GREETINGS).format(agent=ctx.agent_name, part=part),
        ctx.pick(REASONS).format(first=person["first"], last_initial=person["name"].split()[1][0]),
    )
    if ctx.rng.random() < 0.7:
        agent, user = ctx.pick(CHECKS)
        a, u = ctx.call.exchange(agent, user.format(name=person["name"], dob=spoken_dob(person["dob"])))
        ctx.mark("dob", u)


def filler_exchange(ctx) -> None:
    """One filler exchange not used yet in this call."""
    used = {turn["message"] for turn in ctx.call.turns}
    agent, user = ctx.pick([f for f in FILLERS if f[0] not in used])
    ctx.call.exchange(agent, user)


def closing(ctx) -> None:
    ctx.call.exchange(ctx.pick(ANYTHING_ELSE), ctx.pick(NO_THANKS))
    ctx.call.say("agent", ctx.pick(GOODBYES).format(first=ctx.person["first"]))
