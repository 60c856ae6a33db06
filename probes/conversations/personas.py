"""Callers and what is true about them: family, pets, health, orders, homes, plans.

Pools are deliberately overlapping (several callers have a dog, an allergy, a trip) so that a
question's words are not enough to tell callers or facts apart.
"""

from __future__ import annotations

import random

CALLERS = [
    ("Helen", "Carter", "husband"), ("Marcus", "Bell", "wife"), ("Priyanka", "Rao", "husband"),
    ("Tomasz", "Nowak", "partner"), ("Grace", "Liu", "wife"), ("Omar", "Haddad", "wife"),
    ("Ingrid", "Olsen", "partner"), ("Lucia", "Moretti", "husband"), ("Samuel", "Adeyemi", "wife"),
    ("Yuki", "Tanaka", "husband"), ("Rosa", "Delgado", "partner"), ("Callum", "Fraser", "husband"),
]

PARTNER_NAMES = ["Raj", "Claire", "Peter", "Naomi", "Felix", "Jonas", "Amara", "Dev", "Hannah",
                 "Luis", "Keith", "Sara", "Mateo", "Ruth", "Ivan", "Leila"]
DAUGHTERS = ["Emma", "Isla", "Maya", "Zara", "Chloe", "Ava", "Nina", "Sophie", "Lily", "Freya"]
SONS = ["Leo", "Noah", "Arjun", "Oscar", "Finn", "Theo", "Kai", "Jamie", "Ethan", "Rory"]
PARENT_NAMES = ["Margaret", "Ruth", "Barbara", "Elena", "Joan", "Irene", "Dorothy", "Kamala",
                "Agnes", "Beatriz"]
SIBLINGS = [("sister", "Ana"), ("brother", "Pete"), ("sister", "Lena"), ("brother", "Marco"),
            ("sister", "Jess"), ("brother", "Tariq"), ("sister", "Mei"), ("brother", "Sven")]

# species, what a paraphrase calls it, names, breeds
PETS = [
    ("dog", "pup", ["Biscuit", "Pepper", "Scout", "Maple", "Bruno", "Juno"],
     ["beagle", "border collie", "cocker spaniel", "labrador", "dachshund"]),
    ("cat", "moggy", ["Miso", "Tiger", "Luna", "Pickles", "Smudge", "Olive"],
     ["tabby", "Siamese", "ginger tom", "Maine Coon"]),
    ("rabbit", "bunny", ["Clover", "Thumper", "Hazel"], ["lop-eared", "dwarf"]),
    ("parrot", "bird", ["Kiwi", "Mango", "Rio"], ["African grey", "cockatiel"]),
]

# allergen, how the caller says it, how a paraphrased question says it
ALLERGIES = [
    ("peanuts", ["peanuts", "peanut butter, any peanuts really"], "groundnuts"),
    ("penicillin", ["penicillin", "penicillin, the antibiotic"], "that family of antibiotics"),
    ("shellfish", ["shellfish", "prawns and shellfish"], "crustaceans like shrimp"),
    ("latex", ["latex", "latex gloves"], "rubber"),
    ("wasp stings", ["wasp stings", "wasps, the stings"], "insect venom"),
    ("ibuprofen", ["ibuprofen", "ibuprofen, I come out in a rash"], "anti-inflammatory painkillers"),
    ("sesame", ["sesame", "sesame seeds, tahini, that sort of thing"], "hummus ingredients"),
    ("cats", ["cat hair", "cats, their dander"], "felines"),
]

# drug, first dose, later dose, what for, how a paraphrased question says what for
MEDICATIONS = [
    ("metformin", "500 milligrams twice a day", "1000 milligrams twice a day", "type 2 diabetes",
     "blood sugar"),
    ("amlodipine", "5 milligrams in the morning", "10 milligrams in the morning",
     "high blood pressure", "hypertension"),
    ("levothyroxine", "50 micrograms", "75 micrograms", "an underactive thyroid", "thyroid"),
    ("sertraline", "50 milligrams", "100 milligrams", "anxiety", "nerves and low mood"),
    ("salbutamol inhaler", "two puffs when I need it", "two puffs four times a day", "asthma",
     "breathing"),
    ("atorvastatin", "20 milligrams at night", "40 milligrams at night", "high cholesterol",
     "cholesterol"),
]

GPS = ["Dr Okafor", "Dr Patel", "Dr Lindqvist", "Dr Moreau", "Dr Haines", "Dr Brennan",
       "Dr Ferreira", "Dr Kowalski", "Dr Ahmed", "Dr Sato"]
SPECIALISTS = [("physio", "physiotherapy", "my knee"), ("dermatology", "skin clinic", "a mole on my back"),
               ("cardiology", "heart clinic", "palpitations"), ("ENT", "ear, nose and throat", "my hearing"),
               ("podiatry", "foot clinic", "my heel"), ("eye clinic", "ophthalmology", "blurry vision")]
SPECIALIST_NAMES = ["Dr Whitfield", "Dr Nakamura", "Dr Osei", "Dr Varga", "Dr Castillo",
                    "Dr Quinn", "Dr Abara", "Dr Holm"]

# product, price in pounds, how a paraphrased question describes it
PRODUCTS = [
    ("standing desk", 240, "a desk you can raise"), ("coffee machine", 180, "an espresso maker"),
    ("cordless vacuum", 210, "a hoover without a cable"), ("air fryer", 95, "a countertop fryer"),
    ("garden bench", 160, "outdoor seating"), ("electric toothbrush", 70, "a dental gadget"),
    ("rain jacket", 85, "a waterproof coat"), ("office chair", 199, "something to sit on at work"),
    ("dog bed", 45, "somewhere for the pet to sleep"), ("bike helmet", 55, "cycling head protection"),
    ("duvet set", 65, "bedding"), ("blender", 60, "a smoothie maker"),
    ("table lamp", 40, "a light for the side table"), ("kettle", 35, "something to boil water"),
    ("suitcase", 120, "luggage"), ("hiking boots", 130, "walking footwear"),
]
PROBLEMS = [("arrived with a cracked leg", "damaged"), ("was the wrong colour", "not the colour ordered"),
            ("never turned up", "lost in delivery"), ("stopped working after two days", "faulty"),
            ("came with a part missing", "incomplete")]

STREETS = ["Elm Road", "Harbour Street", "Mill Lane", "Station Road", "Kingsley Avenue",
           "Orchard Close", "Victoria Terrace", "Chapel Street", "Marsh Lane", "Beech Grove",
           "Foundry Walk", "Cedar Drive"]
TOWNS = [("Bristol", "BS6"), ("Leeds", "LS8"), ("Norwich", "NR2"), ("York", "YO31"), ("Bath", "BA2"),
         ("Exeter", "EX4"), ("Chester", "CH2"), ("Durham", "DH1"), ("Reading", "RG1"),
         ("Oxford", "OX4"), ("Brighton", "BN2"), ("Cardiff", "CF24")]

TRIPS = [("Lisbon", "Porto"), ("Rome", "Florence"), ("Barcelona", "Valencia"), ("Vienna", "Prague"),
         ("Dublin", "Galway"), ("Seville", "Malaga"), ("Copenhagen", "Stockholm"),
         ("Edinburgh", "Inverness"), ("Amsterdam", "Bruges"), ("Nice", "Marseille")]
TRIP_REASONS = ["our anniversary", "my fiftieth", "a family wedding", "a long weekend",
                "the half-term break", "my sister's hen do"]

CHANNELS = [("text", "a text message", "SMS"), ("email", "an email", "email"),
            ("WhatsApp", "a WhatsApp message", "WhatsApp"), ("phone", "a phone call", "a call")]
TIMES = [("mornings before ten", "early in the day"), ("after six in the evening", "in the evening"),
         ("at lunchtime, between twelve and one", "around midday"),
         ("on weekends", "on a Saturday or Sunday")]
DIETS = [("vegetarian", "doesn't eat meat"), ("vegan", "no animal products"),
         ("halal", "religious dietary rules"), ("gluten-free, I'm coeliac", "wheat"),
         ("pescatarian", "fish but no meat")]
JOBS = [("a night-shift nurse", "works nights at a hospital"), ("a secondary school teacher", "teaches teenagers"),
        ("a bus driver", "drives for public transport"), ("an accountant", "works with numbers"),
        ("a chef", "cooks in a restaurant"), ("a software developer", "writes code"),
        ("a postwoman", "delivers the mail"), ("a physiotherapist", "treats injuries"),
        ("a taxi driver", "drives a cab"), ("a florist", "sells flowers")]


def persona(number: int, rng: random.Random) -> dict:
    """Everything true about caller `number` (stable for a given rng state)."""
    first, last, partner_word = CALLERS[number]
    daughter = rng.choice(DAUGHTERS)
    son = rng.choice(SONS)
    species = rng.sample(PETS, 2)
    pets = []
    for kind, paraphrase, names, breeds in species:
        pets.append({"species": kind, "paraphrase": paraphrase,
                     "name": rng.choice(names), "breed": rng.choice(breeds)})
    towns = rng.sample(TOWNS, 2)
    streets = rng.sample(STREETS, 2)
    products = rng.sample(PRODUCTS, 3)
    specialist = rng.choice(SPECIALISTS)
    channels = rng.sample(CHANNELS, 2)
    gp, other_gp = rng.sample(GPS, 2)
    return {
        "id": f"caller_{number + 1:02d}",
        "first": first,
        "name": f"{first} {last}",
        "phone": f"+1415555{200 + number * 7:04d}",
        "dob": (rng.randint(1950, 1995), rng.randint(1, 12), rng.randint(1, 28)),
        "partner": {"word": partner_word, "name": rng.choice(PARTNER_NAMES)},
        "daughter": {"name": daughter, "age": rng.randint(4, 15)},
        "son": {"name": son, "age": rng.randint(3, 19)},
        "parent": {"name": rng.choice(PARENT_NAMES), "word": rng.choice(["mum", "mother", "mam"])},
        "sibling": dict(zip(("word", "name"), rng.choice(SIBLINGS))),
        "pets": pets,
        "allergy": rng.choice(ALLERGIES),
        "medication": rng.choice(MEDICATIONS),
        "gp": gp,
        "other_gp": other_gp,
        "specialist": {"kind": specialist, "doctor": rng.choice(SPECIALIST_NAMES)},
        "products": products,
        "order_numbers": [rng.randint(40000, 79999) for _ in products],
        "problem": rng.choice(PROBLEMS),
        "home_old": {"number": rng.randint(2, 98), "street": streets[0], "town": towns[0]},
        "home_new": {"number": rng.randint(2, 98), "street": streets[1], "town": towns[1]},
        "trip": {"pair": rng.choice(TRIPS), "reason": rng.choice(TRIP_REASONS),
                 "month": rng.choice(["June", "July", "August", "September", "October"])},
        "channels": channels,
        "time": rng.choice(TIMES),
        "diet": rng.choice(DIETS),
        "seat": rng.choice(["aisle", "window"]),
        "job": rng.choice(JOBS),
    }
