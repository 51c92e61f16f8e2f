"""Word lists the prose generator draws from; large enough that paragraphs never repeat."""

NOUNS = tuple(
    """
    harbour river valley archive lantern ledger orchard village market bridge
    tower garden kitchen library workshop meadow forest mountain island harvest
    journey letter message promise rumour silence storm winter summer morning
    evening window doorway staircase courtyard chapel school factory railway station
    engine compass map notebook diary chronicle record census survey theory
    argument question answer decision council committee assembly parliament treaty
    merchant farmer miller sailor teacher student doctor engineer architect historian
    traveller stranger neighbour family household community generation tradition custom
    festival ceremony ritual song melody rhythm painting sculpture portrait mirror
    candle fire hearth chimney roof wall fence road path trail
    canal reservoir well fountain spring tide shore cliff hillside plain
    economy industry trade harvest price wage budget account treasury coin
    language dialect alphabet manuscript library scholar method experiment instrument telescope
    clock calendar season century decade moment memory habit instinct purpose
    """.split()
)

ADJECTIVES = tuple(
    """
    old young quiet loud careful patient restless bright dark pale
    narrow wide distant nearby ancient modern simple elaborate humble proud
    steady fragile sturdy gentle harsh warm cold damp dry dusty
    hidden open familiar strange ordinary remarkable modest generous stubborn curious
    silent noisy crowded empty northern southern eastern western coastal inland
    wooden stone iron silver golden copper crimson grey green blue
    early late brief lengthy sudden gradual constant rare common useful
    honest uncertain confident weary eager hopeful anxious cheerful solemn thoughtful
    practical theoretical careful deliberate forgotten remembered borrowed shared private public
    """.split()
)

VERBS = tuple(
    """
    carried gathered noticed measured described recorded followed crossed opened closed
    shaped changed repaired built painted studied questioned answered remembered forgot
    welcomed ignored protected guarded shared divided collected counted weighed traded
    lifted lowered moved placed kept held found lost watched heard
    praised doubted trusted tested explained revealed concealed marked named sketched
    copied translated revised organised arranged prepared delivered received returned offered
    borrowed lent bought sold planted harvested cleared cleaned polished lit
    framed admired resembled matched joined separated connected filled emptied reached
    """.split()
)

INTRANSITIVE_VERBS = tuple(
    """
    waited lingered returned endured rested listened wandered settled paused continued
    """.split()
)

ADVERBS = tuple(
    """
    slowly quietly carefully gradually suddenly patiently eventually rarely often always
    never gently firmly briefly easily barely nearly truly simply plainly
    clearly openly calmly warmly boldly freely fully partly mostly largely
    """.split()
)

PREPOSITIONS = tuple(
    """
    across beneath beyond toward against along behind inside near under
    over through around past within without despite after before beside
    """.split()
)

DETERMINERS = tuple(
    "the the the the every each that this one another its their our her his".split()
)
