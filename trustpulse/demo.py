"""A seeded generator of realistic demo dumps for three fictional brands.

Six weeks of conversations across a support export (twcs CSV), X/Twitter API v2 JSON lines, a Reddit
comment dump, a listening-tool CSV export and two blog pages in the scraped shape of the seeds.
Planted on purpose: Northwind Air answers fast and personally; Brightcart answers slowly with canned
replies; Lumen Mobile answers well for two weeks, then walks away (on X, in support and on its blog).
Also planted: unanswered questions, duplicates, comment-form boilerplate, PII, a `<script>` payload
and a few malformed records.
"""

from __future__ import annotations

import csv
import io
import json
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

DEMO_BRANDS_FILE = Path(__file__).parent / "defaults" / "demo_brands.yaml"
START = datetime(2026, 9, 28, 8, 0, tzinfo=UTC)  # a Monday
WEEKS = 6
FIRST_NAMES = [
    "Sam",
    "Priya",
    "Jordan",
    "Mei",
    "Carlos",
    "Aisha",
    "Tom",
    "Lena",
    "Omar",
    "Grace",
    "Ivan",
    "Zoe",
    "Ravi",
    "Nora",
    "Luis",
    "Hana",
    "Ben",
    "Chloe",
    "Yusuf",
    "Ella",
]
SURNAMES = ["Nguyen", "Smith", "Garcia", "Okafor", "Muller", "Rossi", "Khan", "Silva", "Brown", "Kim"]


@dataclass(frozen=True)
class DemoBrand:
    name: str
    handle: str
    topics: dict[str, list[str]]  # kind -> customer texts
    reply_style: str  # personal | canned | walkaway
    median_minutes: float


BRANDS = [
    DemoBrand(
        "Northwind Air",
        "NorthwindAir",
        {
            "complaint": [
                "my flight {n} was delayed 3 hours and nobody told us anything at the gate",
                "lost my checked bag on flight {n}, third time this year. really disappointed",
                "the in-flight wifi never worked on {n}, paid $12 for nothing",
                "rebooked twice and still stuck at the airport. this is awful service",
            ],
            "question": [
                "how do I change my seat selection on booking {code}?",
                "can I bring a second carry-on on the Lisbon flight?",
                "is the lounge open for connecting passengers at terminal 2?",
                "where do I find my boarding pass in the app?",
            ],
            "praise": [
                "cabin crew on flight {n} were wonderful with my kids, thank you!",
                "smoothest boarding I've had in years, well done",
                "love the extra legroom seats, worth every mile",
            ],
        },
        "personal",
        25,
    ),
    DemoBrand(
        "Lumen Mobile",
        "LumenMobile",
        {
            "complaint": [
                "no signal at home for 4 days, I pay for unlimited and get nothing",
                "my eSIM transfer failed and now I have no service at all",
                "charged twice for roaming again. fix your billing",
                "hotspot keeps dropping every 10 minutes, useless for work",
            ],
            "question": [
                "does the unlimited plan include roaming in Canada?",
                "how long does an eSIM activation usually take?",
                "is there 5G coverage planned for Riverside?",
                "can I keep my number if I switch to the family plan?",
            ],
            "praise": [
                "coverage upgrade in my area is noticeable, nice work",
                "support fixed my voicemail in five minutes, great",
            ],
        },
        "walkaway",
        40,
    ),
    DemoBrand(
        "Brightcart",
        "Brightcart",
        {
            "complaint": [
                "order {code} arrived with half the items substituted, not what I asked for",
                "delivery slot missed again, groceries showed up 3 hours late",
                "still waiting on a refund for order {code}, two weeks now",
                "the order tracking says delivered but nothing is here",
            ],
            "question": [
                "can I change my delivery slot after checkout?",
                "do you deliver to the new flats on Mill Road?",
                "how do I turn off substitutions for one item?",
            ],
            "praise": [
                "express delivery in 40 minutes, impressed",
                "driver was so kind and brought everything upstairs, thank you",
            ],
        },
        "canned",
        180,
    ),
]
CANNED = [
    "We're sorry to hear that. Please DM us your order number so we can look into it.",
    "Thanks for reaching out! Please DM us your order number and we'll take a look.",
    "We're sorry for the trouble. Please send us a DM with your order number.",
]
# Personal replies are written for the person: assembled from varied parts plus their own details, so
# no two are near-copies (unlike the canned ones above).
PERSONAL_OPENINGS = [
    "{name},",
    "Hi {name},",
    "Hey {name} -",
    "{name}, thanks for telling us.",
    "Oh no, {name}!",
    "{name}, good to hear from you.",
]
PERSONAL_BODIES = {
    "complaint": [
        "I'm really sorry about {topic}.",
        "that's not the experience we want for you with {topic}.",
        "this one is on us, and {topic} should never happen.",
        "I hear you; {topic} is frustrating.",
    ],
    "question": [
        "good question about {topic}.",
        "happy to help with {topic}.",
        "short answer on {topic}: yes.",
        "{topic} is easy to sort out.",
    ],
    "praise": [
        "this made the whole team smile.",
        "thanks for sharing {topic}, truly.",
        "we love hearing this.",
        "that's exactly what we aim for.",
    ],
}
PERSONAL_ACTIONS = [
    "I've opened case {code} and will update you by {time} myself.",
    "Our {team} lead is looking at it now; expect a message before {time}.",
    "I've sent you a DM with the steps, and I'll check back at {time}.",
    "Ref {code} is yours; reply here any time and it comes straight to me.",
    "I've passed it to {team} with your details, no need to repeat yourself.",
    "Talk soon - {signoff}",
]
TEAMS = ["baggage", "airport", "digital", "crew", "customer care", "billing"]
SIGNOFFS = ["^JK", "^AM", "^RS", "^LT", "^PD"]


class _Ids:
    def __init__(self, start: int) -> None:
        self.value = start

    def next(self) -> str:
        self.value += 1
        return str(self.value)


def _twcs_time(t: datetime) -> str:
    return t.strftime("%a %b %d %H:%M:%S +0000 %Y")


def _iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _reply_probability(brand: DemoBrand, when: datetime, kind: str) -> float:
    week = (when - START).days // 7
    if brand.reply_style == "walkaway":
        return 0.85 if week < 2 else 0.04
    if brand.reply_style == "canned":
        return 0.7 if kind != "praise" else 0.3
    return 0.9 if kind != "praise" else 0.6


def _reply_text(brand: DemoBrand, rng: random.Random, kind: str, name: str, topic: str) -> str:
    if brand.reply_style == "canned":
        return rng.choice(CANNED)
    details = {
        "name": name,
        "topic": topic,
        "code": f"NW{rng.randint(1000, 9999)}",
        "team": rng.choice(TEAMS),
        "time": f"{rng.randint(1, 11)}:{rng.choice(['00', '15', '30', '45'])}",
        "signoff": rng.choice(SIGNOFFS),
    }
    parts = [rng.choice(PERSONAL_OPENINGS), rng.choice(PERSONAL_BODIES[kind]), rng.choice(PERSONAL_ACTIONS)]
    return " ".join(parts).format(**details)


def _customer_text(brand: DemoBrand, rng: random.Random, kind: str) -> tuple[str, str]:
    template = rng.choice(brand.topics[kind])
    text = template.format(n=f"{rng.randint(100, 999)}", code=f"#{rng.randint(10000, 99999)}")
    topic = text.split(",")[0][:40]
    return text, topic


def _support_csv(rng: random.Random, conversations: int) -> str:
    ids = _Ids(100000)
    rows: list[dict[str, str]] = []
    for brand in BRANDS:
        for _ in range(conversations):
            when = START + timedelta(minutes=rng.randint(0, WEEKS * 7 * 24 * 60 - 600))
            customer = str(rng.randint(200000, 299999))
            name = rng.choice(FIRST_NAMES)
            kind = rng.choices(["complaint", "question", "praise"], [5, 4, 1])[0]
            text, topic = _customer_text(brand, rng, kind)
            if rng.random() < 0.03:
                text += f" call me on 415-555-{rng.randint(1000, 9999)}"
            first = {
                "tweet_id": ids.next(),
                "author_id": customer,
                "inbound": "True",
                "created_at": _twcs_time(when),
                "text": f"@{brand.handle} {text}",
                "response_tweet_id": "",
                "in_response_to_tweet_id": "",
            }
            rows.append(first)
            parent = first
            for turn in range(rng.choice([1, 1, 2])):
                if rng.random() > _reply_probability(brand, when, kind):
                    break
                when += timedelta(minutes=max(2.0, rng.lognormvariate(0, 0.8) * brand.median_minutes))
                reply = {
                    "tweet_id": ids.next(),
                    "author_id": brand.handle,
                    "inbound": "False",
                    "created_at": _twcs_time(when),
                    "text": f"@{customer} " + _reply_text(brand, rng, kind, name, topic),
                    "response_tweet_id": "",
                    "in_response_to_tweet_id": parent["tweet_id"],
                }
                parent["response_tweet_id"] = reply["tweet_id"]
                rows.append(reply)
                if turn == 0 and rng.random() < 0.5:
                    when += timedelta(minutes=rng.randint(5, 90))
                    follow = {
                        "tweet_id": ids.next(),
                        "author_id": customer,
                        "inbound": "True",
                        "created_at": _twcs_time(when),
                        "text": f"@{brand.handle} "
                        + rng.choice(
                            [
                                "thanks, that sorted it!",
                                "still not fixed. what now?",
                                "ok, DM sent",
                                "that doesn't help at all",
                            ]
                        ),
                        "response_tweet_id": "",
                        "in_response_to_tweet_id": reply["tweet_id"],
                    }
                    reply["response_tweet_id"] = follow["tweet_id"]
                    rows.append(follow)
                    parent = follow
                else:
                    break
    rows.sort(key=lambda r: int(r["tweet_id"]))
    rows += [dict(rows[i]) for i in rng.sample(range(len(rows)), 8)]  # exported twice
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    out.write("100999,251234,True,Tue Oct 06 10:00:00 +0000 2026\n")  # truncated row
    out.write('101000,251235,True,Wed Oct 07 11:00:00 +0000 2026,"@Brightcart where is my order,,\n')
    return out.getvalue()


def _x_api_pages(rng: random.Random, tweets: int) -> str:
    ids = _Ids(1800000000000000000)
    users: dict[str, dict] = {}
    data: list[dict] = []
    for _ in range(tweets):
        brand = rng.choice(BRANDS)
        when = START + timedelta(minutes=rng.randint(0, WEEKS * 7 * 24 * 60 - 600))
        first, last = rng.choice(FIRST_NAMES), rng.choice(SURNAMES)
        uid = str(rng.randint(10**9, 10**10))
        users[uid] = {
            "id": uid,
            "username": f"{first.lower()}{last.lower()}{uid[-3:]}",
            "name": f"{first} {last}",
        }
        kind = rng.choices(["complaint", "question", "praise", "about", "industry"], [3, 3, 2, 2, 2])[0]
        if kind == "about":
            text = rng.choice(
                [
                    f"{brand.name} just announced a new loyalty scheme, anyone tried it?",
                    f"Thinking about switching to {brand.name}. Worth it?",
                    f"Heard {brand.name} is cutting staff again, hope service doesn't suffer",
                ]
            )
            kind = "question"
        elif kind == "industry":
            text = rng.choice(
                [
                    "every airline seems to lose bags these days",
                    "5G coverage in this city is a joke",
                    "grocery delivery apps all have the same substitution problem",
                    "which carrier has decent roaming in Europe?",
                ]
            )
            kind = "question" if text.endswith("?") else "complaint"
        else:
            text, _ = _customer_text(brand, rng, kind)
            text = f"@{brand.handle} {text}"
        tid = ids.next()
        data.append(
            {
                "id": tid,
                "text": text,
                "author_id": uid,
                "conversation_id": tid,
                "created_at": _iso(when),
                "lang": "en",
            }
        )
        if text.startswith("@") and rng.random() < _reply_probability(brand, when, kind):
            reply_at = when + timedelta(minutes=max(2.0, rng.lognormvariate(0, 0.8) * brand.median_minutes))
            users[brand.handle] = {"id": brand.handle, "username": brand.handle, "name": brand.name}
            data.append(
                {
                    "id": ids.next(),
                    "author_id": brand.handle,
                    "conversation_id": tid,
                    "created_at": _iso(reply_at),
                    "text": f"@{users[uid]['username']} "
                    + _reply_text(brand, rng, kind, first, text.split(" ", 1)[1][:30]),
                    "referenced_tweets": [{"type": "replied_to", "id": tid}],
                }
            )
    handles = {b.handle for b in BRANDS}
    payload_at = next(i for i, t in enumerate(data) if i >= 5 and t["author_id"] not in handles)
    data[payload_at]["text"] = (
        "<script>alert('xss')</script> @Brightcart <img src=x onerror=alert(1)> my order is late?"
    )
    data.append({"id": ids.next(), "author_id": "1", "conversation_id": "1", "created_at": _iso(START)})  # no text
    pages = []
    for i in range(0, len(data), 100):
        page = data[i : i + 100]
        authors = dict.fromkeys(t["author_id"] for t in page)  # in order, not a set: the same bytes every run
        page_users = [users[u] for u in authors if u in users]
        pages.append(json.dumps({"data": page, "includes": {"users": page_users}, "meta": {"result_count": len(page)}}))
    return "\n".join(pages) + "\n"


def _reddit_jsonl(rng: random.Random, threads: int) -> str:
    lines = []
    for t in range(threads):
        brand = rng.choice(BRANDS)
        link = f"t3_demo{t:03d}"
        when = START + timedelta(hours=rng.randint(0, WEEKS * 7 * 24 - 48))
        subreddit = {
            "Northwind Air": "travel",
            "Lumen Mobile": "NoContract",
            "Brightcart": "GroceryDelivery",
        }[brand.name]
        comments: list[dict] = []
        for c in range(rng.randint(4, 9)):
            kind = rng.choice(["complaint", "question", "praise"])
            text, _ = _customer_text(brand, rng, kind)
            if c == 0:
                text = f"Anyone else having this with {brand.name}? " + text
            parent = rng.choice(comments)["name"] if comments and rng.random() < 0.4 else link
            when += timedelta(minutes=rng.randint(3, 240))
            comments.append(
                {
                    "id": f"c{t:03d}{c}",
                    "name": f"t1_c{t:03d}{c}",
                    "author": f"u_{rng.choice(FIRST_NAMES).lower()}{rng.randint(1, 99)}",
                    "body": text,
                    "created_utc": int(when.timestamp()),
                    "link_id": link,
                    "parent_id": parent,
                    "subreddit": subreddit,
                    "permalink": f"/r/{subreddit}/comments/demo{t:03d}/_/c{t:03d}{c}/",
                }
            )
            if rng.random() < _reply_probability(brand, when, kind) * 0.5:
                when += timedelta(minutes=max(5.0, rng.lognormvariate(0, 0.8) * brand.median_minutes))
                account = {
                    "Northwind Air": "Northwind_Official",
                    "Lumen Mobile": "Lumen_Mobile_Team",
                    "Brightcart": "brightcart_support",
                }[brand.name]
                comments.append(
                    {
                        "id": f"r{t:03d}{c}",
                        "name": f"t1_r{t:03d}{c}",
                        "author": account,
                        "body": _reply_text(brand, rng, kind, "there", "this"),
                        "created_utc": int(when.timestamp()),
                        "link_id": link,
                        "parent_id": comments[-1]["name"],
                        "subreddit": subreddit,
                        "permalink": f"/r/{subreddit}/comments/demo{t:03d}/_/r{t:03d}{c}/",
                    }
                )
        lines += [json.dumps(c) for c in comments]
    lines.insert(7, lines[6])  # a duplicated line
    lines.insert(20, '{"id": "broken", "body": "unterminated')
    lines.insert(40, "not json at all")
    lines.append(
        json.dumps({"id": "x1", "author": "u_empty", "body": "", "link_id": "t3_demo000", "subreddit": "travel"})
    )
    return "\n".join(lines) + "\n"


def _listening_csv(rng: random.Random, rows: int) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["id", "platform", "author", "created_at", "text", "url"])
    for i in range(rows):
        brand = rng.choice(BRANDS)
        kind = rng.choice(["complaint", "praise", "question"])
        text, _ = _customer_text(brand, rng, kind)
        platform = rng.choice(["review", "forum"])
        text = f"{brand.name} review: {text}" if platform == "review" else f"Re: {brand.name} - {text}"
        if rng.random() < 0.02:
            text += f" (contact me: {rng.choice(FIRST_NAMES).lower()}@example.com)"
        when = START + timedelta(minutes=rng.randint(0, WEEKS * 7 * 24 * 60))
        row = [
            f"L{i:05d}",
            platform,
            f"{rng.choice(FIRST_NAMES)} {rng.choice(SURNAMES)}",
            when.strftime("%Y-%m-%d %H:%M:%S%z") if i % 3 else when.isoformat(),
            text,
            f"https://forum.example.com/t/{i}",
        ]
        writer.writerow(row)
        if i % 40 == 0:  # the export tool repeats some posts with trailing whitespace
            writer.writerow([f"L{i:05d}b", *row[1:4], text + "  ", row[5]])
    return out.getvalue()


def _blog_page(rng: random.Random, brand: DemoBrand, owner: str, replies_until: int) -> str:
    post = [
        f"Listening to you: what we're changing at {brand.name}",
        "",
        f"Over the last months many of you told us what works and what doesn't at {brand.name}. "
        "This post explains what we heard and what we will change.",
        "",
        "Tell us in the comments what matters most to you. We read every one.",
    ]
    lines = [*post, ""]
    commenters = rng.sample([f"{f} {s}" for f in FIRST_NAMES for s in SURNAMES], 14)
    for i, person in enumerate(commenters):
        first = person.split()[0]
        kind = rng.choice(["complaint", "question", "praise"])
        text, topic = _customer_text(brand, rng, kind)
        body = [
            f"{owner.split()[0]},",
            text[0].upper() + text[1:] + ".",
            rng.choice(["Would love an answer on this.", "Thanks for asking.", "Hope someone reads these."]),
        ]
        signed = rng.random() < 0.7
        block = body + (
            [f"{person}s last blog post..{rng.choice(['Weekend notes', 'On travel', 'Budget tips'])}"] if signed else []
        )
        lines += block + block  # the scraper prints every comment twice
        if i < replies_until:
            lines.append(f"@{first} – thanks for this. " + _reply_text(brand, rng, kind, first, topic))
    lines += [
        "",
        "Post a comment",
        "",
        "Comments are moderated, and will not appear until the author has approved them.",
        "",
        "Your Information",
        "",
        "(Name is required. Email address will not be displayed with the comment.)",
    ]
    return "\n".join(lines) + "\n"


def generate_demo_dumps(out_dir: Path, seed: int = 7, scale: float = 1.0) -> list[Path]:
    """Write the demo dumps into `out_dir`; same seed and scale, same bytes."""
    rng = random.Random(seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    files = {
        "support_export_twcs.csv": _support_csv(rng, max(4, int(140 * scale))),
        "x_api_mentions.jsonl": _x_api_pages(rng, max(10, int(420 * scale))),
        "reddit_comments.jsonl": _reddit_jsonl(rng, max(3, int(45 * scale))),
        "listening_export.csv": _listening_csv(rng, max(10, int(260 * scale))),
        "blog_northwind_listening.txt": _blog_page(rng, BRANDS[0], "Grace Okafor", replies_until=14),
        "blog_lumen_listening.txt": _blog_page(rng, BRANDS[1], "Dana Reyes", replies_until=4),
    }
    paths = []
    for name, content in files.items():
        path = out_dir / name
        path.write_text(content, encoding="utf-8")
        paths.append(path)
    return paths
