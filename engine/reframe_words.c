/* reframe_words.c -- the word lists behind pp_reframe(), as plain data.
 *
 * Everything here is const and written in pushpull's own words: PCRE2
 * patterns for the four horsemen (Gottman's names for the moves that make a
 * partner defensive), a table of complaint topics (each maps to a feeling,
 * a neutral situation, a need and one concrete, doable request), and a table
 * of objects a topic may capture ("dishes" -> "the dishes") so the rewrite
 * only ever contains phrases from this file, never the user's words.
 * Topics are tried in table order: the more specific ones come first.
 * Patterns run caseless on text from pp_input_normalize() (straight
 * apostrophes, single spaces); engine/reframe.c compiles them once.
 */
#include "pushpull.h"
#include "reframe_words.h"

/* Shared pattern fragments. */
#define PW   "(?:partner|wife|husband|hubby|boyfriend|girlfriend|bf|gf|fianc[eé]e?|spouse|other\\s+half)"
#define YOU  "(?:you|u|ya)"
/* Someone who can be blamed, with an optional "is/are/will". */
#define SUBJ "(?:you(?:'?re|\\s+are|'ll|'d|\\s+will|\\s+would)?|u(?:\\s+are|\\s+r)?" \
             "|(?:he|she)(?:'?s|\\s+is|'ll|\\s+will)?|they(?:'?re|\\s+are|'ll|\\s+will)?" \
             "|my\\s+" PW "(?:'?s|\\s+is)?)"
/* "you are" in all its spellings, and he/she/they/my partner is. */
#define BEING "(?:you'?re|youre|you\\s+are|u\\s+r|u\\s+are|(?:he|she)'?s|(?:he|she)\\s+is" \
              "|they'?re|they\\s+are|ur|my\\s+" PW "(?:'s|\\s+is))"
#define IAM  "(?:i'?m|im|i\\s+am)"

const pp_reframe_pattern pp_reframe_patterns[] = {
    /* ---- criticism: global blame, verdicts on character ---- */
    { PP_HORSEMAN_CRITICISM, 0,
      "\\b" SUBJ "\\s+(?:always|never|constantly|forever)\\b" },
    { PP_HORSEMAN_CRITICISM, 0,
      "\\bwhy\\s+(?:can'?t|cannot|can\\s+not|won'?t|don'?t|do|do\\s+not|didn'?t|must|does|doesn'?t)\\s+"
      "(?:" YOU "|he|she|they)\\s+(?:ever|just|even|never|always)\\b" },
    { PP_HORSEMAN_CRITICISM, 0,
      "\\bwhy\\s+(?:are|r)\\s+" YOU "\\s+(?:so|always|like\\s+this|never)\\b" },
    { PP_HORSEMAN_CRITICISM, 0,
      "\\bwhat(?:'?s|\\s+is)\\s+(?:wrong\\s+with\\s+" YOU "|your\\s+problem)\\b" },
    { PP_HORSEMAN_CRITICISM, 0,
      "\\b" BEING "\\s+(?:so\\s+|such\\s+an?\\s+|too\\s+|really\\s+|just\\s+|being\\s+|completely\\s+"
      "|totally\\s+|incredibly\\s+|very\\s+|the\\s+most\\s+)*"
      "(?:selfish|lazy|inconsiderate|thoughtless|careless|irresponsible|self-?cent(?:er|re)d|immature"
      "|unreliable|cold|controlling|clingy|needy|dramatic|sloppy|messy|rude|mean|insensitive"
      "|impossible|unbelievable|cheap|stingy|paranoid|obsessed|addicted|negative|ungrateful"
      "|disrespectful|heartless|boring|useless\\s+at|hopeless\\s+at"
      "|(?:a|such\\s+a)\\s+(?:terrible|horrible|awful|bad|lousy|crap|crappy)\\s+\\w+)\\b" },
    { PP_HORSEMAN_CRITICISM, 0,
      "\\b(?:" YOU "|he|she|they)\\s+only\\s+(?:\\w+\\s+){0,4}?when\\s+(?:you|he|she|they)\\s+(?:want|need)\\s+(?:something|sth|stuff)\\b" },
    { PP_HORSEMAN_CRITICISM, 0,
      "\\b(?:" YOU "|he|she|they|my\\s+" PW ")\\s+(?:don'?t|do\\s+not|doesn'?t|does\\s+not)\\s+(?:even\\s+)?"
      "(?:care|love\\s+me|respect|listen|appreciate|notice|try|help|bother|think\\s+about|give\\s+a)\\b" },
    { PP_HORSEMAN_CRITICISM, 0,
      "\\b(?:only|just)\\s+(?:ever\\s+)?(?:care|cares|think|thinks)\\s+about\\s+"
      "(?:yourself|himself|herself|themselves|your\\s+own|his\\s+own|her\\s+own)\\b"
      "|\\b(?:always|all)\\s+about\\s+(?:you|him|her)\\b|\\beverything\\s+is\\s+about\\s+(?:you|him|her)\\b" },
    { PP_HORSEMAN_CRITICISM, 0,
      "\\bi\\s+(?:always|constantly)\\s+have\\s+to\\b|\\bi\\s+(?:have\\s+to\\s+)?do\\s+(?:literally\\s+)?everything\\b"
      "|\\bam\\s+i\\s+the\\s+only\\s+one\\b|\\bevery\\s+single\\s+time\\b|\\byet\\s+again\\b|\\bas\\s+usual\\b" },
    /* a first name + always/never ("Sam never calls"); case-sensitive so
     * the capital letter means a name */
    { PP_HORSEMAN_CRITICISM, 1,
      "\\b(?!(?:I|We|It|This|That|There|These|Those|Things|People|Nobody|Everyone|Everybody|Someone"
      "|Life|Work|Mum|Mom|Dad|Why|Because|And|But|So|Well|Honestly|Seriously|Just|Also|Then|You|He|She"
      "|They|My|Our|Your|The|What|When|If|Almost|Nearly|Today|Sometimes|Never|Always)\\b)"
      "[A-Z][a-z]{1,20}(?:'?s|\\s+is)?\\s+(?i:always|never|constantly)\\b" },

    /* ---- contempt: insults, mockery, sarcasm, eye-rolls ---- */
    { PP_HORSEMAN_CONTEMPT, 0,
      "(?<!like\\san\\s)(?<!like\\sa\\s)\\b(?:idiot|moron|imbecile|loser|jerk|asshole|arsehole|a-?hole|bitch|bastard|prick|dickhead"
      "|dumbass|dumb-ass|douche(?:bag)?|cretin|halfwit|nitwit|numpty|muppet|pig|slob|leech|parasite"
      "|psycho|nutcase|lunatic|clown)s?\\b" },
    { PP_HORSEMAN_CONTEMPT, 0,
      "\\b(?:genius|einstein|sherlock|princess|your\\s+(?:highness|majesty)|mr\\.?\\s+perfect"
      "|miss\\s+perfect|drama\\s+queen|captain\\s+obvious|smarty\\s*pants|hotshot)\\b" },
    { PP_HORSEMAN_CONTEMPT, 0,
      "\\b(?:" BEING "|you\\s+(?:look|sound|act)|what\\s+an?|how)\\s+(?:so\\s+|such\\s+an?\\s+|an?\\s+|totally\\s+"
      "|completely\\s+|really\\s+|just\\s+|absolutely\\s+|utterly\\s+)*"
      "(?:pathetic|stupid|dumb|ridiculous|disgusting|useless(?!\\s+at)|worthless|clueless|incompetent|childish"
      "|hopeless|spineless|brainless|joke(?!\\s+about)|child|baby|mess|disappointment|embarrassment|embarrassing"
      "|laughable|lame|gross|repulsive|insufferable|unbearable|typical)\\b" },
    { PP_HORSEMAN_CONTEMPT, 0,
      "\\byour\\s+(?:stupid|pathetic|dumb|ridiculous|precious|little|damn|bloody|fucking|freaking|stupid\\s+little)\\s+\\w" },
    { PP_HORSEMAN_CONTEMPT, 0,
      "\\boh\\s+(?:sure|great|wonderful|perfect|wow|please|right|really|poor|joy|brilliant|fantastic"
      "|of\\s+course|how\\s+nice|well\\s+done)\\b"
      "|\\bthank(?:s|\\s+you)\\s+(?:so+\\s+much\\s+|a\\s+lot\\s+|a\\s+bunch\\s+|very\\s+much\\s+)?for\\s+"
      "(?:all\\s+(?:your|the)\\b|nothing\\b)|\\bthanks\\s+a\\s+lot\\b"
      "|\\b(?:nice\\s+(?:going|one)|way\\s+to\\s+go|real\\s+mature|very\\s+mature|so\\s+mature|good\\s+for\\s+you"
      "|well\\s+done|bravo|slow\\s+clap|congrat(?:ulation)?s)\\b" },
    { PP_HORSEMAN_CONTEMPT, 0,
      "\\b(?:yeah|ya|yea),?\\s+right\\b|\\bas\\s+if\\b|\\bpuh-?lease\\b|\\bboo\\s*-?\\s*hoo\\b"
      "|\\bcry\\s+me\\s+a\\s+river\\b|\\bpoor\\s+(?:you|baby|thing|little)\\b|\\bbig\\s+(?:man|boy|shot)\\b"
      "|\\bduh\\b|\\bpff+t*\\b|\\bwhatever\\s+you\\s+say\\b|\\bsure\\s+you\\s+(?:did|do|will|are)\\b"
      "|\\bof\\s+course\\s+you\\s+(?:did|didn'?t|do|don'?t|are|forgot)\\b|\\bhow\\s+(?:surprising|shocking)\\b"
      "|\\bwhat\\s+a\\s+(?:surprise|shock)\\b|\\bshocker\\b|\\btypical\\b" },
    { PP_HORSEMAN_CONTEMPT, 0,
      "\\beye\\s*-?\\s*rolls?\\b|\\broll(?:s|ed|ing)?\\s+(?:my\\s+|her\\s+|his\\s+|their\\s+)?eyes\\b"
      "|\\*\\s*sighs?\\s*\\*|\\bsmh\\b" },
    { PP_HORSEMAN_CONTEMPT, 0,
      "\\bgrow\\s+up\\b|\\bget\\s+a\\s+(?:grip|life|clue|brain)\\b|\\bshut\\s+up\\b|\\bdisgust(?:s|ing)?\\s+me\\b"
      "|\\bmake(?:s)?\\s+me\\s+sick\\b|\\bcan'?t\\s+believe\\s+i\\s+(?:married|chose|picked|ended\\s+up\\s+with)\\b"
      "|\\bno\\s+wonder\\s+(?:nobody|no\\s+one|your\\s+ex)\\b"
      "|\\b(?:act(?:s|ing)?|behav(?:e|es|ing)|whin(?:e|es|ing)|sulk(?:s|ing)?)\\s+like\\s+an?\\s+"
      "(?:child|baby|toddler|teenager|little\\s+kid|kid|spoiled\\s+brat|brat|five\\s+year\\s+old|5\\s+year\\s+old)\\b"
      "|\\bmy\\s+(?:mother|mom|mum|dad|father|ex)\\s+(?:could|would)\\s+(?:do|have\\s+done)\\s+(?:it\\s+|this\\s+)?better\\b"
      "|\\bdo\\s+you\\s+even\\s+(?:know|think|have\\s+a\\s+brain)\\b"
      "|\\bcan'?t\\s+(?:even\\s+)?(?:look\\s+at|stand)\\s+you\\b|\\bwow,?\\s+you\\s+actually\\b"
      "|\\bshould\\s+i\\s+throw\\s+(?:you\\s+)?a\\s+party\\b|\\b(?:do\\s+you\\s+)?want\\s+a\\s+(?:medal|cookie|gold\\s+star)\\b" },

    /* ---- defensiveness: denial, excuses, counter-attack ---- */
    { PP_HORSEMAN_DEFENSIVENESS, 0,
      "\\b(?:that'?s|thats|that\\s+is|this\\s+is|it'?s|its)\\s+(?:not\\s+true|a\\s+lie|bs|bull(?:shit)?|rubbish"
      "|nonsense|not\\s+how\\s+it\\s+(?:happened|was)|not\\s+what\\s+(?:i\\s+said|happened))\\b"
      "|\\b(?:that'?s|thats|that\\s+is)\\s+(?:not\\s+fair|so\\s+unfair|unfair)\\b" },
    { PP_HORSEMAN_DEFENSIVENESS, 0,
      "\\bi\\s+do\\s+(?:plenty|a\\s+lot|so\\s+much|tons|loads|more\\s+than\\s+you|my\\s+share|my\\s+part)\\b"
      "|\\bi\\s+(?:already|literally)\\s+(?:did|do)\\b" },
    { PP_HORSEMAN_DEFENSIVENESS, 0,
      "\\byou\\s+do\\s+(?:it|that|the\\s+same)\\s+too\\b|\\bso\\s+do\\s+you\\b|\\bneither\\s+do\\s+you\\b"
      "|\\byou'?re\\s+(?:one|the\\s+one)\\s+to\\s+talk\\b|\\blook\\s+who'?s\\s+talking\\b"
      "|\\bwhat\\s+about\\s+(?:you|when\\s+you|the\\s+time\\s+you|your)\\b|\\byou\\s+(?:\\w+\\s+){1,4}?either\\b"
      "|\\bat\\s+least\\s+i\\b|\\bpot\\s+(?:calling|and)\\s+(?:the\\s+)?kettle\\b"
      "|\\bthe\\s+same\\s+(?:could|can)\\s+be\\s+said\\b|(?:^|[.!?]\\s*)(?:well|but),?\\s+you\\b" },
    { PP_HORSEMAN_DEFENSIVENESS, 0,
      "\\bnot\\s+my\\s+fault\\b|\\bdon'?t\\s+blame\\s+(?:me|this\\s+on\\s+me)\\b"
      "|\\bhow\\s+(?:was|am)\\s+i\\s+supposed\\s+to\\s+know\\b"
      "|\\b(?:" IAM "|i\\s+was)\\s+(?:only|just)\\s+(?:trying|being|joking|kidding|asking|saying|tired|busy)\\b"
      "|\\bi\\s+didn'?t\\s+(?:even\\s+)?do\\s+anything\\b|\\bi\\s+(?:never|did\\s+not|didn'?t)\\s+say\\s+that\\b"
      "|\\byou\\s+made\\s+me\\b|\\bi\\s+meant\\s+to\\b|\\bi\\s+was\\s+going\\s+to\\b|\\bi\\s+was\\s+(?:busy|tired|working)\\b"
      "|\\bi\\s+had\\s+no\\s+choice\\b|\\bwhy\\s+is\\s+it\\s+always\\s+(?:me|my\\s+fault)\\b"
      "|\\b" IAM "\\s+not\\s+the\\s+(?:one|problem|bad\\s+guy)\\b"
      "|\\b(?:you'?re|youre|you\\s+are)\\s+(?:overreacting|too\\s+sensitive|exaggerating|making\\s+(?:it|this)\\s+up"
      "|imagining\\s+(?:it|things))\\b|\\bi\\s+can'?t\\s+(?:do|be)\\s+everything\\b|\\bi\\s+(?:did|do)\\s+my\\s+best\\b"
      "|\\bso\\s+what\\b|\\bstop\\s+(?:nagging|complaining|going\\s+on|picking\\s+on\\s+me)\\b|\\bit\\s+was\\s+(?:an\\s+accident|one\\s+time|only\\s+once|just\\s+once)\\b" },

    /* ---- stonewalling: shutting the conversation down ---- */
    { PP_HORSEMAN_STONEWALLING, 0,
      "(?:^|[.!?;]\\s*)(?:fine|whatever|forget\\s+it|never\\s*mind|drop\\s+it)\\s*(?:[.!,;]|$)"
      "|^\\s*(?:ok(?:ay)?|k|sure|yeah|i\\s+don'?t\\s+care)\\s*[.!]*\\s*$|\\bwhatever\\s*[.!]*\\s*$" },
    { PP_HORSEMAN_STONEWALLING, 0,
      "\\b" IAM "\\s+(?:not\\s+doing\\s+this|done\\s+(?:talking|with\\s+this|discussing|arguing)"
      "|not\\s+(?:talking|discussing|getting\\s+into)\\s+(?:about\\s+)?(?:this|it|that)|not\\s+having\\s+this)\\b"
      "|\\b" IAM "\\s+done\\s*(?:[.!]|$)" },
    { PP_HORSEMAN_STONEWALLING, 0,
      "\\bi\\s+(?:don'?t|do\\s+not)\\s+want\\s+to\\s+(?:talk|discuss|hear|argue)\\s+(?:about\\s+)?"
      "(?:it|this|that|any\\s*more)\\b|\\bleave\\s+me\\s+alone\\b|\\bconversation\\s+over\\b"
      "|\\bend\\s+of\\s+(?:discussion|story|conversation)\\b|\\bnot\\s+this\\s+again\\b|\\bhere\\s+we\\s+go\\s+again\\b"
      "|\\bi\\s+have\\s+nothing\\s+(?:more\\s+|else\\s+)?to\\s+say\\b|\\bwe'?re\\s+done\\s+(?:here|talking)\\b"
      "|\\bdon'?t\\s+talk\\s+to\\s+me\\b|\\bi\\s+(?:don'?t|do\\s+not)\\s+care\\s+any\\s*more\\b"
      "|\\bdo\\s+(?:whatever|what)\\s+you\\s+want\\b|\\bwe\\s+are\\s+not\\s+doing\\s+this\\b" },
};
const size_t pp_reframe_n_patterns = sizeof pp_reframe_patterns / sizeof pp_reframe_patterns[0];

/* Topics, most specific first.  Feelings and needs are our own short list:
 * feelings: hurt, lonely, shut out, worried, anxious, overwhelmed, worn out,
 * torn, left out, let down, unseen, alone, far from you, disconnected,
 * uneasy; needs: time with you, closeness, to feel heard, to be able to
 * rely on what we agree, to feel we're a team, to be part of choices... */
const pp_reframe_topic pp_reframe_topics[] = {
    { "occasions",
      "\\b(?<obj>birthday|anniversary|valentine'?s(?:\\s+day)?|christmas|mother'?s\\s+day|father'?s\\s+day)\\b",
      "a day that matters to me", 0,
      "hurt", "{obj} goes by unmarked", "{obj} went by unmarked",
      "to feel that I matter to you",
      "Could we put the days that matter to us both in a shared calendar?", "{obj}" },
    { "tone",
      "\\b(?:yell(?:s|ed|ing)?|shout(?:s|ed|ing)?|scream(?:s|ed|ing)?|raise(?:s|d)?\\s+your\\s+voice"
      "|snap(?:s|ped|ping)?\\s+at\\s+me|talk(?:s|ed|ing)?\\s+down\\s+to\\s+me|condescending|patroni[sz]ing"
      "|your\\s+tone|that\\s+tone|critici[sz](?:e|es|ed|ing)\\s+me|nag(?:s|ging|ged)?)\\b",
      "", 0,
      "hurt", "our conversations turn sharp", "the conversation turned sharp",
      "to feel safe when we disagree",
      "Could we agree to pause when a talk starts to heat up, and come back to it calmly?",
      "how we talk to each other" },
    { "texting",
      "\\b(?:text(?:s|ed|ing)?|call(?:s|ed|ing)?\\s+(?:me\\s+)?back|calls?\\s+me|messages?|repl(?:y|ies|ied)"
      "|respond(?:s|ed)?|answer(?:s|ed)?\\s+(?:your|the|my)\\s+phone|pick(?:s|ed)?\\s+up\\s+(?:your|the)\\s+phone"
      "|get\\s+back\\s+to\\s+me|on\\s+read|whatsapp|check(?:s|ing)?\\s+in)\\b",
      "", 0,
      "worried", "I don't hear back for hours", "I didn't hear back for hours",
      "to know that we're okay",
      "Could you send me a quick message when you'll be out of touch for a while?", "staying in touch" },
    { "friends",
      "\\b(?:friends?|mates|buddies|the\\s+(?:boys|guys|girls|lads)|(?:boys|girls|guys|lads)'?\\s+nights?"
      "|pub|bar|going\\s+out|went\\s+out|go(?:es)?\\s+out\\s+without\\s+me|nights?\\s+out)\\b",
      "", 0,
      "left out", "plans with friends are made without a word to me",
      "plans with friends were made without a word to me",
      "to be included in how we plan our week",
      "Could we go over our plans for the week together on Sunday evenings?", "plans with friends" },
    { "work",
      "\\b(?:work(?:s|ing)?\\s+late|at\\s+(?:work|the\\s+office)|your\\s+(?:job|work|boss)|overtime|the\\s+office"
      "|work(?:s|ing)?\\s+(?:all\\s+the\\s+time|every\\s+(?:night|evening|weekend)|weekends)|workaholic"
      "|business\\s+trips?|working\\s+(?:again|all|every))\\b",
      "", 0,
      "lonely", "work takes up most of our evenings", "work took up the evening we had",
      "time with you",
      "Could we choose one evening a week that stays free of work?", "work" },
    { "family",
      "\\b(?<obj>(?:your|my|his|her|their|the)\\s+(?:mother|mom|mum|father|dad|parents|family|folks|sister"
      "|brother|siblings)|in-?laws|mother-in-law|father-in-law|mil|fil)\\b|\\btake\\s+(?:their|her|his)\\s+side\\b",
      "the family", 0,
      "torn", "things with {obj} come between us", "things with {obj} came between us",
      "to feel that we're a team",
      "Could we agree on a plan together before we next see {obj}?", "{obj}" },
    { "kids",
      "(?<!\\ba\\s)(?<!poor\\s)(?<!little\\s)\\b(?<obj>kids?|children|child|baby|babies|son|daughter|toddler"
      "|teenagers?|bedtime|school\\s+run|homework|diapers?|nappies|nappy|daycare|day\\s+care|night\\s+feeds?"
      "|parenting)\\b",
      "the kids", 1,
      "worn out", "the work around {obj} falls to me alone", "the work around {obj} fell to me alone",
      "us to share the care as a team",
      "Could we sit down this weekend and split the jobs around {obj}?", "{obj}" },
    { "sex",
      "\\b(?:sex|sexual|in\\s+bed|intimate|intimacy|make\\s+love|making\\s+love|made\\s+love|libido"
      "|bedroom|turned\\s+on|horny|touch\\s+me\\s+any\\s*more)\\b",
      "", 0,
      "disconnected", "we go a long time without being close in bed",
      "we went a long time without being close in bed",
      "physical closeness with you",
      "Could we find a calm moment this week to talk about what we both want?", "our sex life" },
    { "affection",
      "\\b(?:hug(?:s|ged|ging)?|kiss(?:es|ed|ing)?|cuddl(?:e|es|ed|ing)|affection(?:ate)?|touch(?:es|ed|ing)?\\s+me"
      "|hold(?:s|ing)?\\s+(?:my\\s+)?hands?|romantic|romance|sweet\\s+to\\s+me|(?:say|said|tell\\s+me)\\s+(?:that\\s+)?"
      "(?:i|you)\\s+love\\s+(?:you|me))\\b",
      "", 0,
      "far from you", "days go by without a hug or a kiss", "days went by without a hug or a kiss",
      "closeness with you",
      "Could we start with a long hug when we get home each day?", "affection" },
    { "phone",
      "\\b(?<obj>phones?|cell\\s*phone|mobile|iphone|screens?|tablet|ipad|laptop|computer|games?|gaming"
      "|video\\s+games|playstation|ps5|xbox|console|tv|telly|television|netflix|youtube|social\\s+media"
      "|instagram|insta|tiktok|facebook|reddit|twitter)\\b|\\bscroll(?:s|ing)?\\b|\\bglued\\s+to\\b",
      "screens", 1,
      "shut out", "{obj} get{s} more attention than we do", "{obj} got more attention than we did",
      "your attention when we're together",
      "Could we have screen-free dinners, so that time is just ours?", "{obj}" },
    { "money",
      "\\b(?<obj>money|spending|credit\\s+cards?|bills|budget|debts?|savings|rent|mortgage|loans?|bank\\s+account"
      "|paycheck|salary|purchases|shopping\\s+spree|expenses)\\b|\\bspend(?:s|ing)?\\s+(?:so\\s+much|too\\s+much|all)\\b"
      "|\\b(?:bought|buy(?:ing)?|buys)\\s+(?:another|more|a\\s+new|yet\\s+another)\\b|\\bwaste(?:s|d)?\\s+"
      "(?:our\\s+|all\\s+our\\s+)?cash\\b|\\bafford\\b",
      "money", 0,
      "anxious", "I'm not sure where we stand with {obj}", "I wasn't sure where we stood with {obj}",
      "us to be on the same page about money",
      "Could we sit down on Sunday and look at our money together?", "{obj}" },
    { "lateness",
      "\\b(?:late|on\\s+time|punctual|(?:keep|kept|keeps)\\s+me\\s+waiting|waiting\\s+(?:for\\s+you|around)"
      "|running\\s+behind|home\\s+(?:before|by|until|till|after)\\s+\\w+)\\b",
      "", 0,
      "anxious", "the time we agreed on passes and I haven't heard anything",
      "the time we agreed on passed and I hadn't heard anything",
      "to be able to count on the times we set",
      "Could you text me as soon as you know you'll be late?", "being on time" },
    { "chores",
      "\\b(?<obj>dish(?:es)?|washing[\\s-]up|laundry|washing|trash|garbage|rubbish|bins?|recycling|vacuuming"
      "|hoovering|cleaning|cooking|cook|groceries|grocery\\s+shopping|food\\s+shopping|housework|house\\s*work"
      "|chores|tidying(?:\\s+up)?|mess|bathroom|kitchen|toilet|dishwasher|towels|socks|clothes|floor|lawn"
      "|yard\\s*work)\\b|\\b(?:around|clean(?:ing)?|tidy(?:ing)?)\\s+(?:the|this)\\s+(?:house|place|flat|apartment|home)\\b"
      "|\\bclean\\s+up\\b|\\b(?:you|he|she|they)\\s+do(?:es)?\\s+nothing\\b|\\bpick\\s+up\\s+after\\b|\\bhelp(?:s|ing)?\\s+(?:out\\s+)?(?:around|at)\\s+home\\b",
      "the housework", 0,
      "overwhelmed", "{obj} {is} left to me", "{obj} {was} left to me",
      "us to share the work at home",
      "Could we agree on who takes care of {obj} on which days?", "{obj}" },
    { "appreciation",
      "\\b(?:thank(?:s|ed)?\\s+me|say\\s+thank\\s+you|said\\s+thank\\s+you|say\\s+thanks|appreciat(?:e|es|ed|ion|ive)"
      "|for\\s+granted|notice(?:s|d)?\\s+(?:anything|what\\s+i\\s+do|when\\s+i)|grateful|all\\s+i\\s+do"
      "|everything\\s+i\\s+do|what\\s+i\\s+do\\s+(?:all\\s+day|around\\s+here|for\\s+(?:you|this\\s+family)))\\b",
      "", 0,
      "unseen", "the things I do go unmentioned", "what I did went unmentioned",
      "to feel appreciated",
      "Could we each name one thing we noticed the other did, before bed?", "how we thank each other" },
    { "listening",
      "\\b(?:listen(?:s|ed|ing|er)?|hear(?:s|ing)?\\s+me|heard|pay(?:s|ing)?\\s+attention|interrupt(?:s|ing|ed)?"
      "|talk(?:s|ing)?\\s+over\\s+me|cut(?:s)?\\s+me\\s+off|tune(?:s|d)?\\s+(?:me\\s+)?out|zone(?:s|d)?\\s+out"
      "|ignor(?:e|es|ed|ing)\\s+me|what\\s+i\\s+(?:say|said)|a\\s+word\\s+i\\s+say|talking\\s+to\\s+a\\s+wall"
      "|care\\s+(?:about\\s+)?what\\s+i\\s+think)\\b",
      "", 0,
      "alone", "I'm talking and I can't tell if it's landing", "I was talking and couldn't tell if it landed",
      "to feel heard",
      "Could we take ten minutes tonight where I talk and you tell me what you heard?",
      "how we listen to each other" },
    { "support",
      "\\b(?:support(?:ive|s|ed)?|there\\s+for\\s+me|comfort(?:ed)?\\s+me|cares?\\s+about\\s+me"
      "|(?:don'?t|doesn'?t|do\\s+not|never)\\s+(?:even\\s+)?care|how\\s+i\\s+feel|my\\s+feelings"
      "|ask(?:ed)?\\s+(?:me\\s+)?how\\s+i\\s+(?:am|was|feel|felt)|on\\s+my\\s+side|stood\\s+up\\s+for\\s+me"
      "|back\\s+me\\s+up)\\b",
      "", 0,
      "alone", "something is hard for me and I'm carrying it on my own",
      "something was hard for me and I carried it on my own",
      "your support",
      "Could you ask me tonight how I'm doing, and just listen?", "how we support each other" },
    { "decisions",
      "\\b(?:decid(?:e|es|ed|ing)|decisions?|without\\s+(?:asking|telling|consulting|checking\\s+with)\\s+me"
      "|ask(?:ing)?\\s+(?:me\\s+)?first|my\\s+opinion|have\\s+a\\s+say|get\\s+a\\s+say|behind\\s+my\\s+back)\\b",
      "", 0,
      "left out", "choices that affect us both are made without me",
      "a choice that affected us both was made without me",
      "to be part of the choices about our life",
      "Could we talk the next big decision through together before either of us says yes?",
      "how we make decisions" },
    { "promises",
      "\\b(?:promis(?:e|es|ed|ing)|forg(?:et(?!\\s+(?:it|about\\s+it)\\b)|ets|ot|otten|etting)|said\\s+you\\s+would|follow\\s+through"
      "|remember(?:s|ed)?|remind(?:ed)?\\s+you|still\\s+(?:haven'?t|hasn'?t|have\\s+not|has\\s+not)|(?:asked|told)\\s+you\\s+(?:\\w+\\s+){0,2}?times|broke\\s+(?:your|a)\\s+(?:word|promise))\\b",
      "", 0,
      "let down", "something we agreed on doesn't happen", "something we agreed on didn't happen",
      "to be able to rely on what we agree",
      "Could we write down what we agree on and check it together on Sundays?", "what we agreed" },
    { "trust",
      "\\b(?:flirt(?:s|ed|ing)?|your\\s+ex|cheat(?:s|ed|ing)?|li(?:e|es|ed)\\s+to\\s+me|lying|secrets?"
      "|hid(?:e|es|ing|den)?\\s+(?:things|stuff|it|your)|jealous|trust|sneak(?:y|ing)"
      "|going\\s+through\\s+my\\s+phone)\\b",
      "", 0,
      "uneasy", "I'm not sure what's going on between us", "I wasn't sure what was going on between us",
      "to feel secure with you",
      "Could we talk tonight about what would help me feel secure?", "trust" },
    { "time",
      "\\b(?:date\\s+nights?|dates?|plans|weekends?|evenings?|nights?\\s+out|time\\s+together|quality\\s+time"
      "|vacations?|holidays?|trips?|dinner\\s+together)\\b|\\b(?:plan|plans|planned|organi[sz]e|make)\\s+"
      "(?:anything|something|a\\s+date|a\\s+plan)\\b|\\btake(?:s)?\\s+me\\s+out\\b|\\b(?:do|doing)\\s+anything\\s+(?:fun|together)\\b|\\bspend\\s+(?:any\\s+)?time\\s+"
      "(?:with|together)\\b|\\bgo\\s+out\\s+(?:any\\s*more|together)\\b|\\bcancel(?:s|led|ed|ling)?\\b",
      "", 0,
      "lonely", "we don't have time set aside for just the two of us", "our time together fell through",
      "time with you",
      "Could we keep Thursday evenings just for us?", "our time together" },
};
const size_t pp_reframe_n_topics = sizeof pp_reframe_topics / sizeof pp_reframe_topics[0];

#define FAMILY(det, out) \
    { det " mother", out " mother", 0 }, { det " mom", out " mom", 0 }, { det " mum", out " mum", 0 }, \
    { det " father", out " father", 0 }, { det " dad", out " dad", 0 }, { det " parents", out " parents", 1 }, \
    { det " family", out " family", 0 }, { det " folks", out " folks", 1 }, { det " sister", out " sister", 0 }, \
    { det " brother", out " brother", 0 }, { det " siblings", out " siblings", 1 }

const pp_reframe_object pp_reframe_objects[] = {
    /* occasions */
    { "birthday", "my birthday", 0 }, { "anniversary", "our anniversary", 0 },
    { "valentine's", "Valentine's Day", 0 }, { "valentines", "Valentine's Day", 0 },
    { "valentine's day", "Valentine's Day", 0 }, { "valentines day", "Valentine's Day", 0 },
    { "christmas", "Christmas", 0 }, { "mother's day", "Mother's Day", 0 }, { "mothers day", "Mother's Day", 0 },
    { "father's day", "Father's Day", 0 }, { "fathers day", "Father's Day", 0 },
    /* kids */
    { "kid", "the kids", 1 }, { "kids", "the kids", 1 }, { "children", "the children", 1 },
    { "child", "our child", 0 }, { "baby", "the baby", 0 }, { "babies", "the babies", 1 },
    { "son", "our son", 0 }, { "daughter", "our daughter", 0 }, { "toddler", "our toddler", 0 },
    { "teenager", "our teenager", 0 }, { "teenagers", "the teenagers", 1 }, { "bedtime", "bedtime", 0 },
    { "school run", "the school run", 0 }, { "homework", "homework", 0 }, { "diaper", "the diapers", 1 },
    { "diapers", "the diapers", 1 }, { "nappy", "the nappies", 1 }, { "nappies", "the nappies", 1 },
    { "daycare", "the daycare runs", 1 }, { "day care", "the daycare runs", 1 },
    { "night feed", "the night feeds", 1 }, { "night feeds", "the night feeds", 1 },
    { "parenting", "the kids", 1 },
    /* family: the user's own family stays "my", the partner's is "your" */
    FAMILY("your", "your"), FAMILY("my", "my"), FAMILY("the", "the"),
    { "in-laws", "your family", 0 }, { "inlaws", "your family", 0 },
    { "mother-in-law", "your mother", 0 }, { "father-in-law", "your father", 0 },
    { "mil", "your mother", 0 }, { "fil", "your father", 0 },
    /* phone and screens */
    { "phone", "the phone", 0 }, { "phones", "phones", 1 }, { "cell phone", "the phone", 0 },
    { "cellphone", "the phone", 0 }, { "mobile", "the phone", 0 }, { "iphone", "the phone", 0 },
    { "screen", "screens", 1 }, { "screens", "screens", 1 }, { "tablet", "the tablet", 0 },
    { "ipad", "the tablet", 0 }, { "laptop", "the laptop", 0 }, { "computer", "the computer", 0 },
    { "game", "games", 1 }, { "games", "games", 1 }, { "gaming", "gaming", 0 }, { "video games", "games", 1 },
    { "playstation", "games", 1 }, { "ps5", "games", 1 }, { "xbox", "games", 1 }, { "console", "games", 1 },
    { "tv", "the TV", 0 }, { "telly", "the telly", 0 }, { "television", "the TV", 0 },
    { "netflix", "Netflix", 0 }, { "youtube", "YouTube", 0 }, { "social media", "social media", 0 },
    { "instagram", "social media", 0 }, { "insta", "social media", 0 }, { "tiktok", "social media", 0 },
    { "facebook", "social media", 0 }, { "reddit", "social media", 0 }, { "twitter", "social media", 0 },
    /* money */
    { "money", "money", 0 }, { "spending", "spending", 0 }, { "credit card", "the credit card", 0 },
    { "credit cards", "the credit cards", 1 }, { "bills", "the bills", 1 }, { "budget", "the budget", 0 },
    { "debt", "our debt", 0 }, { "debts", "our debts", 1 }, { "savings", "our savings", 1 },
    { "rent", "the rent", 0 }, { "mortgage", "the mortgage", 0 }, { "loan", "the loan", 0 },
    { "loans", "the loans", 1 }, { "bank account", "the bank account", 0 }, { "paycheck", "money", 0 },
    { "salary", "money", 0 }, { "purchases", "big purchases", 1 }, { "shopping spree", "spending", 0 },
    { "expenses", "our expenses", 1 },
    /* chores */
    { "dish", "the dishes", 1 }, { "dishes", "the dishes", 1 }, { "washing up", "the washing-up", 0 },
    { "washing-up", "the washing-up", 0 }, { "laundry", "the laundry", 0 }, { "washing", "the washing", 0 },
    { "trash", "the trash", 0 }, { "garbage", "the garbage", 0 }, { "rubbish", "the rubbish", 0 },
    { "bin", "the bins", 1 }, { "bins", "the bins", 1 }, { "recycling", "the recycling", 0 },
    { "vacuuming", "the vacuuming", 0 }, { "hoovering", "the hoovering", 0 }, { "cleaning", "the cleaning", 0 },
    { "cooking", "the cooking", 0 }, { "cook", "the cooking", 0 }, { "groceries", "the groceries", 1 },
    { "grocery shopping", "the grocery shopping", 0 }, { "food shopping", "the food shopping", 0 },
    { "housework", "the housework", 0 }, { "house work", "the housework", 0 },
    { "chores", "the chores", 1 }, { "tidying", "the tidying", 0 }, { "tidying up", "the tidying", 0 },
    { "mess", "the tidying", 0 }, { "bathroom", "the bathroom", 0 }, { "kitchen", "the kitchen", 0 },
    { "toilet", "the bathroom", 0 }, { "dishwasher", "the dishwasher", 0 }, { "towels", "the tidying", 0 },
    { "socks", "the tidying", 0 }, { "clothes", "the tidying", 0 }, { "floor", "the tidying", 0 },
    { "lawn", "the lawn", 0 }, { "yard work", "the yard work", 0 }, { "yardwork", "the yard work", 0 },
};
const size_t pp_reframe_n_objects = sizeof pp_reframe_objects / sizeof pp_reframe_objects[0];

const char *const pp_reframe_past_pattern =
    "\\b(?:yesterday|last\\s+(?:night|week|weekend|month|year|time|monday|tuesday|wednesday|thursday|friday"
    "|saturday|sunday)|this\\s+morning|earlier\\s+today|ago|didn'?t|did\\s+not|wasn'?t|weren'?t|forgot|hadn'?t)\\b"
    "|\\b(?:you|he|she|they)\\s+(?:just\\s+|totally\\s+|completely\\s+|never\\s+|even\\s+)?"
    "(?:forgot|left|spent|made|took|went|came|said|told|bought|missed|ignored|cancel(?:l)?ed|did|got|ran|sent"
    "|let|walked|rolled|yelled|shouted|decided|invited|booked|showed|promised|stayed|played|skipped|blew)\\b";

/* "I feel ...", "I need ...", "I'd like ...": the speaker talks about
 * themself (not "I feel like you ..."). */
const char *const pp_reframe_istatement_pattern =
    "(?:^|[.!?,;]\\s*|\\band\\s+)(?:i(?:'d|\\s*d|\\s+would)\\s+(?:like|love)\\b|i\\s+(?:feel|felt|(?:am|'m|was)\\s+feeling|need|miss|would\\s+(?:like|love)"
    "|really\\s+(?:miss|need|feel|felt))|it\\s+hurts?\\s+(?:me\\s+)?when)\\b"
    "(?!\\s+(?:like|that|as\\s+if|as\\s+though)\\s+(?:you|he|she|they|u)\\b)";

const char *const pp_reframe_request_pattern =
    "\\b(?:could|would|can|will)\\s+(?:we|you)\\b|\\bwould\\s+you\\s+be\\s+willing\\b"
    "|\\bi'?d\\s+(?:love|like)\\s+(?:it\\s+if|for\\s+us|us\\s+to|to)\\b|\\bi\\s+would\\s+(?:love|like)\\b"
    "|\\bhow\\s+about\\s+we\\b|\\blet'?s\\b|\\bmaybe\\s+we\\s+(?:could|can)\\b|\\bwhat\\s+if\\s+we\\b";

const char *const pp_reframe_note_horseman[4] = {
    "Criticism: \"always\", \"never\" and verdicts on who your partner is turn one problem into an "
    "attack on their character, so they defend themselves instead of hearing what you need.",
    "Contempt: insults, mockery and sarcasm say you look down on your partner, which hurts more than "
    "the issue itself and closes the door on fixing it.",
    "Defensiveness: denying, making excuses or answering with a complaint of your own means neither "
    "concern gets heard, and the argument climbs a level.",
    "Stonewalling: shutting the talk down leaves your partner alone with the problem; saying that you "
    "need a break, and when you will come back, keeps the door open.",
};
const char *const pp_reframe_note_gentle =
    "This is already a gentle start-up: it says how you feel, what is happening and what you would "
    "like, without blame, so keep it as it is.";
const char *const pp_reframe_note_template =
    "There is not enough here to tell what the complaint is about, so rather than guess, fill in the "
    "blanks with the situation, your feeling, your need and one small request.";
const char *const pp_reframe_note_neutral =
    "There is no blame here, but a description alone leaves your partner guessing; adding your feeling, "
    "your need and a request makes it easy to answer.";
const char *const pp_reframe_note_source =
    "Background: \"The Push and Pull of Building Intimacy in a Relationship\" on not building a case "
    "against a partner, and \"2 Big Reasons Why Men Pull Away — Just When You're Starting To Get Close\" "
    "on how feeling criticised makes people defensive.";
const char *const pp_reframe_template =
    "I feel ___ when ___. I need ___. Would you be willing to ___?";
