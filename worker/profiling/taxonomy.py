"""The default interest taxonomy: e-commerce tags, each with words that describe it.

The descriptions are what the embedding model matches item titles against, so they list
the concrete products a shopper would buy under each tag.
"""

from __future__ import annotations

DEFAULT_TAXONOMY: tuple[tuple[str, str], ...] = (
    ("christmas", "christmas decorations, tree ornaments, baubles, advent calendars, santa"),
    ("halloween & seasonal", "halloween, easter eggs and bunnies, autumn and seasonal decor"),
    ("home decor", "decorative ornaments, signs, wall art, doorstops, trinket boxes"),
    ("candles & home fragrance", "candles, tea lights, candle holders, incense, diffusers"),
    ("lighting", "lamps, fairy lights, lanterns, string lights, night lights, light bulbs"),
    ("kitchen & dining", "kitchenware, cookware, utensils, mugs, plates, bowls, teapots"),
    ("baking", "cake cases, baking tins, cookie cutters, cake stands, aprons, oven gloves"),
    ("food storage", "lunch boxes, jars, tins, storage containers, water bottles"),
    ("party tableware", "paper plates, paper cups, napkins, straws, party tableware"),
    ("party supplies", "party decorations, bunting, balloons, party bags, banners"),
    ("gift wrap & cards", "wrapping paper, gift tags, greeting cards, ribbons, gift bags"),
    ("stationery", "notebooks, notepads, pencils, erasers, journals, memo pads, stickers"),
    ("office supplies", "staplers, paper clips, folders, binders, tape, desk organisers"),
    ("paper & labels", "printer paper, copy paper, labels, index cards, card stock"),
    ("printers & ink", "printers, ink cartridges, toner, scanners, print heads"),
    ("office electronics", "calculators, shredders, label makers, laminators, projectors"),
    ("telephones", "cordless phones, corded phones, headsets, answering machines"),
    ("computer accessories", "keyboards, mice, usb drives, cables, mouse pads, webcams"),
    ("office furniture", "desks, office chairs, filing cabinets, shelving, footrests"),
    ("writing instruments", "pens, ballpoint pens, fountain pens, markers, highlighters"),
    ("art & craft supplies", "paints, brushes, craft kits, colouring, glitter, modelling"),
    ("sewing & haberdashery", "buttons, sewing kits, fabric, knitting, thread, needles"),
    ("toys & games", "toys, board games, puzzles, dolls, soft toys, playing cards"),
    ("educational toys", "learning games, alphabet blocks, science kits, flash cards"),
    ("baby & nursery", "baby gifts, nursery decor, baby clothes, bibs, rattles"),
    ("school supplies", "pencil cases, school bags, rulers, backpacks, lunch bags"),
    ("bags & purses", "handbags, shopping bags, tote bags, purses, wallets"),
    ("jewellery", "necklaces, bracelets, earrings, rings, jewellery boxes"),
    ("fashion accessories", "scarves, hats, gloves, umbrellas, hair accessories"),
    ("clothing", "t-shirts, dresses, jackets, jumpers, trousers, socks"),
    ("footwear", "shoes, boots, slippers, sandals, trainers"),
    ("beauty & cosmetics", "makeup, skincare, nail polish, compact mirrors, cosmetic bags"),
    ("bath & body", "soap, bath towels, bath accessories, toiletry bags, wash bags"),
    ("garden & outdoor", "garden tools, plant pots, bird feeders, garden decor, watering cans"),
    ("flowers & plants", "artificial flowers, plants, seeds, vases, flower pots"),
    ("storage & organisation", "storage boxes, baskets, hooks, coat racks, drawers"),
    ("soft furnishings", "cushions, cushion covers, blankets, throws, curtains, tea towels"),
    ("bedroom & bedding", "bedding, pillows, duvet covers, hot water bottles, sleep masks"),
    ("clocks", "wall clocks, alarm clocks, mantel clocks, timers"),
    ("picture frames & albums", "photo frames, picture frames, photo albums"),
    ("vintage & retro", "vintage style, retro designs, antique look, nostalgic, retrospot"),
    ("pets", "pet toys, pet beds, dog accessories, cat accessories, pet bowls"),
    ("sports & fitness", "exercise equipment, sports gear, yoga mats, balls"),
    ("travel & luggage", "suitcases, travel accessories, passport holders, luggage tags"),
    ("audio & gadgets", "headphones, speakers, chargers, gadgets, batteries"),
    ("phone & tablet accessories", "phone cases, tablet cases, chargers, screen protectors"),
    ("books & reading", "books, bookmarks, bookends, reading lights, magazines"),
    ("music & instruments", "musical instruments, music boxes, records"),
    ("sweets & treats", "sweets, chocolate, biscuits, tea, coffee, snacks"),
    ("health & personal care", "first aid, vitamins, personal care, hand warmers"),
    ("cleaning & household", "cleaning supplies, brushes, dustpans, bins, laundry"),
    ("tools & diy", "hand tools, hardware, tape measures, screwdrivers, torches"),
    ("weddings & celebrations", "wedding decorations, anniversary, confetti, celebration"),
    ("love & valentine's", "hearts, valentine's day, love, romantic gifts"),
    ("novelty gifts", "keyrings, fridge magnets, novelty gifts, funny gadgets, badges"),
    ("calendars & planners", "diaries, planners, calendars, wall planners, organisers"),
    ("boards & presentation", "whiteboards, notice boards, cork boards, easels, dry erase"),
    ("mailing & shipping", "envelopes, packing tape, mailing boxes, bubble wrap, postal"),
    ("eco-friendly", "recycled, reusable, sustainable, organic, eco-friendly products"),
    ("children's tableware & kids", "children's cups, kids plates, dolly, kids party"),
)


def tag_text(name: str, description: str | None) -> str:
    """What is embedded for a tag: its name, then the products it covers."""
    return f"{name}: {description}" if description else name
