"""A small English NER set generated for tests: the entity type is decided by the entity itself,
not by the context (the same templates take persons, places and organisations), and test
entities never occur in training. A tagger can only score well if its embedding knows what
the names are, which is what pretraining brings.
"""

from __future__ import annotations

import random

PERSONS = [
    "John Smith", "Mary Johnson", "Barack Obama", "Angela Merkel", "Albert Einstein", "Taylor Swift", "Elon Musk",
    "Bill Gates", "Emma Watson", "David Beckham", "Serena Williams", "Michael Jordan", "Vladimir Putin",
    "Emmanuel Macron", "Oprah Winfrey", "Tom Hanks", "Jennifer Lopez", "Steve Jobs", "Marie Curie", "Isaac Newton",
    "Charles Darwin", "William Shakespeare", "Leonardo DiCaprio", "Lionel Messi", "Cristiano Ronaldo", "Rafael Nadal",
    "Roger Federer", "Justin Trudeau", "Boris Johnson", "Hillary Clinton", "Joe Biden", "Donald Trump",
    "Mark Zuckerberg", "Jeff Bezos", "Warren Buffett", "Madonna", "Beyonce", "Robert Brown", "Susan Miller",
    "James Wilson", "Linda Davis", "Peter Parker", "Anna Schmidt", "Pablo Picasso", "Vincent van Gogh",
]
PLACES = [
    "London", "Paris", "Berlin", "Tokyo", "New York", "California", "Texas", "Germany", "France", "Japan", "China",
    "India", "Brazil", "Canada", "Australia", "Mexico", "Spain", "Italy", "Russia", "Egypt", "Kenya", "Chicago",
    "Boston", "Madrid", "Rome", "Moscow", "Beijing", "Shanghai", "Sydney", "Toronto", "Amsterdam", "Vienna",
    "Stockholm", "Dublin", "Lisbon", "Athens", "Cairo", "Seoul", "Bangkok", "Florida", "Scotland", "Ireland",
    "Norway", "Sweden", "Poland",
]
ORGS = [
    "Microsoft", "Google", "Apple", "Amazon", "Toyota", "Samsung", "IBM", "Intel", "the United Nations", "NASA",
    "the World Bank", "Harvard University", "Oxford University", "the European Union", "Coca-Cola", "Nike",
    "Siemens", "Volkswagen", "Netflix", "Facebook", "Twitter", "Oracle", "the BBC", "Reuters", "the FBI", "NATO",
    "UNESCO", "Greenpeace", "the Red Cross", "Stanford University", "MIT", "Boeing", "Airbus", "Pfizer", "Sony",
    "Nintendo", "Walmart", "McDonald's", "Starbucks", "Goldman Sachs", "JPMorgan", "Shell", "BMW", "Honda", "Adobe",
]
TEMPLATES = [
    "I read a long article about {} yesterday .", "Everyone was talking about {} at the party .",
    "The report mentioned {} twice .", "She wrote a book on {} last year .", "We heard news about {} this morning .",
    "{} was in the headlines again .", "Nobody expected {} to appear in the story .", "They argued about {} for hours .",
    "A documentary about {} will air tonight .", "My teacher often talks about {} .",
]


def _sentence(template, entity, etype):
    before, after = template.split("{}")
    words, tags = before.split(), ["O"] * len(before.split())
    entity_words = entity.split()
    words += entity_words
    tags += [f"B-{etype}"] + [f"I-{etype}"] * (len(entity_words) - 1)
    words += after.split()
    tags += ["O"] * len(after.split())
    return words, tags


def english_ner(seed=0, test_share=0.3):
    """``(train_x, train_y, test_x, test_y)``: every (template, entity) pair, entities split by name."""
    rng = random.Random(seed)
    train, test = [], []
    for entities, etype in ((PERSONS, "PER"), (PLACES, "LOC"), (ORGS, "ORG")):
        names = list(entities)
        rng.shuffle(names)
        cut = int(len(names) * (1 - test_share))
        for split, chosen in ((train, names[:cut]), (test, names[cut:])):
            for name in chosen:
                for template in rng.sample(TEMPLATES, 4):
                    split.append(_sentence(template, name, etype))
    rng.shuffle(train)
    rng.shuffle(test)
    return [w for w, _ in train], [t for _, t in train], [w for w, _ in test], [t for _, t in test]
