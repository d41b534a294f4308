/**
 * The emoji the reaction picker offers: the common reactions first, then a few hundred more with
 * their names (Unicode's, shortened) and a few words to find them by. Built in, not fetched: the
 * Content Security Policy allows no CDN, and a full emoji data set would outweigh the app.
 * Every entry is one emoji of Unicode's recommended set, as the server checks (a unit test too).
 */

export interface EmojiEntry {
  emoji: string;
  /** What it is called, for the button's label and for search. */
  name: string;
  /** More words it is found by. */
  keywords: string;
}

/** The reactions offered first, one tap away. */
export const COMMON_REACTIONS = ['👍', '❤️', '😂', '🎉', '😮', '😢', '🙏', '👀'] as const;

// emoji, name, keywords — one line each.
const DATA = `
👍|thumbs up|yes ok agree like approve +1
👎|thumbs down|no disagree dislike -1
❤️|red heart|love like
😂|face with tears of joy|laugh lol funny haha
🎉|party popper|celebrate congrats tada hooray
😮|face with open mouth|wow surprised oh
😢|crying face|sad tear
🙏|folded hands|please thanks pray hope
👀|eyes|look see watching
😀|grinning face|smile happy
😃|grinning face with big eyes|smile happy
😄|grinning face with smiling eyes|smile happy
😁|beaming face|grin smile
😆|grinning squinting face|laugh
😅|grinning face with sweat|phew nervous relief
🤣|rolling on the floor laughing|rofl lol
🙂|slightly smiling face|smile
🙃|upside-down face|silly sarcasm
😉|winking face|wink
😊|smiling face with smiling eyes|blush happy
😇|smiling face with halo|angel innocent
🥰|smiling face with hearts|love adore
😍|smiling face with heart-eyes|love crush
🤩|star-struck|wow amazing
😘|face blowing a kiss|kiss love
😋|face savoring food|yum delicious
😛|face with tongue|tongue playful
😜|winking face with tongue|crazy playful
🤪|zany face|crazy goofy
🤑|money-mouth face|rich money
🤗|hugging face|hug thanks
🤭|face with hand over mouth|oops giggle
🤫|shushing face|quiet secret
🤔|thinking face|hmm think wonder
🤐|zipper-mouth face|secret quiet
🤨|face with raised eyebrow|doubt skeptical
😐|neutral face|meh
😑|expressionless face|blank
😶|face without mouth|speechless
😏|smirking face|smirk
😒|unamused face|meh annoyed
🙄|face with rolling eyes|eyeroll whatever
😬|grimacing face|awkward yikes
😌|relieved face|calm relief
😔|pensive face|sad thoughtful
😪|sleepy face|tired
😴|sleeping face|sleep zzz tired
😷|face with medical mask|sick mask
🤒|face with thermometer|sick ill
🤕|face with head-bandage|hurt injured
🤢|nauseated face|sick gross
🤮|face vomiting|sick gross
🥵|hot face|heat sweating
🥶|cold face|freezing
🥴|woozy face|dizzy drunk
😵|face with crossed-out eyes|dizzy dead
🤯|exploding head|mind blown shocked
🤠|cowboy hat face|yeehaw
🥳|partying face|party celebrate birthday
😎|smiling face with sunglasses|cool
🤓|nerd face|geek glasses
🧐|face with monocle|inspect curious
😕|confused face|confused unsure
😟|worried face|worried concerned
🙁|slightly frowning face|sad
😯|hushed face|surprised
😲|astonished face|shocked amazed
😳|flushed face|embarrassed blush
🥺|pleading face|please puppy eyes
😦|frowning face with open mouth|shocked
😧|anguished face|shocked pain
😨|fearful face|scared afraid
😰|anxious face with sweat|nervous anxious
😥|sad but relieved face|phew
😭|loudly crying face|sob cry sad
😱|face screaming in fear|scream horror omg
😖|confounded face|frustrated
😣|persevering face|struggle
😞|disappointed face|sad
😓|downcast face with sweat|tired
😩|weary face|tired exhausted
😫|tired face|tired exhausted
🥱|yawning face|bored tired
😤|face with steam from nose|triumph annoyed
😡|enraged face|angry mad
😠|angry face|angry mad
🤬|face with symbols on mouth|swear angry
😈|smiling face with horns|devil evil
💀|skull|dead lol dying
💩|pile of poo|poop
🤡|clown face|clown joke
👻|ghost|boo spooky
👽|alien|ufo space
🤖|robot|bot machine
😺|grinning cat|cat smile
😹|cat with tears of joy|cat laugh
😻|smiling cat with heart-eyes|cat love
🙈|see-no-evil monkey|oops hide
🙉|hear-no-evil monkey|monkey
🙊|speak-no-evil monkey|oops secret
👋|waving hand|hello hi bye wave
🤚|raised back of hand|hand
✋|raised hand|stop high five
🖖|vulcan salute|spock
👌|ok hand|ok perfect
🤌|pinched fingers|italian what
🤏|pinching hand|small tiny little
✌️|victory hand|peace
🤞|crossed fingers|luck hope
🤟|love-you gesture|love
🤘|sign of the horns|rock metal
🤙|call me hand|call shaka
👈|backhand index pointing left|left point
👉|backhand index pointing right|right point
👆|backhand index pointing up|up point
👇|backhand index pointing down|down point
☝️|index pointing up|one first point
👊|oncoming fist|fist bump punch
✊|raised fist|power solidarity
🤛|left-facing fist|fist bump
🤜|right-facing fist|fist bump
👏|clapping hands|clap applause bravo
🙌|raising hands|hooray celebrate praise
👐|open hands|hug
🤲|palms up together|please
🤝|handshake|deal agree
✍️|writing hand|write note
💪|flexed biceps|strong muscle power
🧠|brain|smart think
🫡|saluting face|salute respect yes sir
🫠|melting face|melt hot embarrassed
🫶|heart hands|love thanks
🧡|orange heart|love
💛|yellow heart|love
💚|green heart|love
💙|blue heart|love
💜|purple heart|love
🖤|black heart|love
🤍|white heart|love
🤎|brown heart|love
💔|broken heart|sad heartbreak
❤️‍🔥|heart on fire|love passion
💕|two hearts|love
💖|sparkling heart|love
💯|hundred points|100 perfect score
💢|anger symbol|angry
💥|collision|boom bang
💫|dizzy|star
💦|sweat droplets|water
💨|dashing away|fast wind
💬|speech balloon|comment chat talk
💭|thought balloon|think
💤|zzz|sleep
✨|sparkles|shiny magic new
🔥|fire|hot lit flame
⭐|star|favourite favorite
🌟|glowing star|star shine
⚡|high voltage|lightning fast zap
🌈|rainbow|pride
☀️|sun|sunny weather
🌙|crescent moon|night moon
☁️|cloud|weather
🌧️|cloud with rain|rain weather
❄️|snowflake|snow cold winter
☃️|snowman|snow winter
🌊|water wave|wave sea ocean
🌸|cherry blossom|flower spring
🌹|rose|flower love
🌻|sunflower|flower
🌱|seedling|plant grow
🌲|evergreen tree|tree
🍀|four leaf clover|luck lucky
🍁|maple leaf|autumn fall canada
🐶|dog face|dog puppy
🐱|cat face|cat kitten
🐭|mouse face|mouse
🐰|rabbit face|bunny
🦊|fox|fox
🐻|bear|bear
🐼|panda|panda
🐨|koala|koala
🐯|tiger face|tiger
🦁|lion|lion
🐮|cow face|cow
🐷|pig face|pig
🐸|frog|frog
🐵|monkey face|monkey
🐔|chicken|chicken
🐧|penguin|penguin
🐦|bird|bird
🦆|duck|duck
🦉|owl|owl wise
🐝|honeybee|bee
🐛|bug|bug insect
🦋|butterfly|butterfly
🐢|turtle|slow turtle
🐍|snake|snake python
🐙|octopus|octopus
🦀|crab|crab rust
🐳|spouting whale|whale
🐬|dolphin|dolphin
🦄|unicorn|unicorn magic
🐉|dragon|dragon
🍎|red apple|apple fruit
🍊|tangerine|orange fruit
🍋|lemon|lemon fruit
🍌|banana|banana fruit
🍉|watermelon|fruit summer
🍇|grapes|fruit
🍓|strawberry|fruit
🍑|peach|fruit
🍒|cherries|fruit
🥑|avocado|avocado
🌶️|hot pepper|spicy chili
🌽|ear of corn|corn
🥕|carrot|carrot
🍞|bread|bread toast
🧀|cheese wedge|cheese
🍔|hamburger|burger food
🍟|french fries|fries chips
🍕|pizza|pizza food
🌭|hot dog|hotdog
🌮|taco|taco food
🍣|sushi|sushi food
🍜|steaming bowl|ramen noodles soup
🍝|spaghetti|pasta
🍩|doughnut|donut sweet
🍪|cookie|cookie biscuit
🎂|birthday cake|birthday cake
🍰|shortcake|cake dessert
🍫|chocolate bar|chocolate
🍿|popcorn|popcorn movie drama
☕|hot beverage|coffee tea
🍵|teacup without handle|tea
🍺|beer mug|beer cheers
🍻|clinking beer mugs|cheers beers
🥂|clinking glasses|cheers toast champagne
🍷|wine glass|wine
🍾|bottle with popping cork|champagne celebrate
🎊|confetti ball|celebrate party
🎈|balloon|party birthday
🎁|wrapped gift|present gift birthday
🏆|trophy|win winner award
🥇|1st place medal|gold first win
🏅|sports medal|medal award
⚽|soccer ball|football sport
🏀|basketball|sport
🎮|video game|game controller play
🎲|game die|dice game random
🎯|bullseye|target goal hit
🎵|musical note|music note song
🎶|musical notes|music song
🎸|guitar|music rock
🎤|microphone|sing karaoke mic
🎧|headphone|music listen
🎬|clapper board|movie film action
📷|camera|photo picture
💡|light bulb|idea
📌|pushpin|pin important
📎|paperclip|attach
📝|memo|note write
📅|calendar|date schedule
📈|chart increasing|growth up stonks
📉|chart decreasing|down decline
📊|bar chart|stats data
📣|megaphone|announce
🔔|bell|notification ring
🔕|bell with slash|mute quiet
🔒|locked|lock secure private
🔑|key|key password
🔧|wrench|fix tool
🔨|hammer|build tool
🛠️|hammer and wrench|tools fix build
⚙️|gear|settings config
🧪|test tube|test experiment
🐞|lady beetle|bug ladybug
🚀|rocket|launch ship deploy fast
✈️|airplane|travel flight
🚗|automobile|car
🚲|bicycle|bike
🚨|police car light|alert emergency siren
🚧|construction|wip work in progress
🏠|house|home
🌍|globe showing europe-africa|world earth
💻|laptop|computer code
⌨️|keyboard|type computer
🖥️|desktop computer|computer
📱|mobile phone|phone
🔋|battery|battery power
🔌|electric plug|plug power
💾|floppy disk|save
📦|package|box ship release
📚|books|read library
📖|open book|read
✏️|pencil|write edit
🗑️|wastebasket|trash delete bin
⏰|alarm clock|time alarm wake
⏳|hourglass not done|wait time loading
⌛|hourglass done|time
✅|check mark button|done yes ok complete
✔️|check mark|done yes ok
❌|cross mark|no wrong cancel
❎|cross mark button|no
⚠️|warning|warning caution
⛔|no entry|stop forbidden
🚫|prohibited|no forbidden
❓|red question mark|question what
❔|white question mark|question
❗|red exclamation mark|important
‼️|double exclamation mark|important
➕|plus|add plus one
➖|minus|remove minus
➡️|right arrow|next
⬅️|left arrow|back
⬆️|up arrow|up
⬇️|down arrow|down
🔄|counterclockwise arrows button|refresh repeat sync
🆗|ok button|ok
🆕|new button|new
🆒|cool button|cool
🆘|sos button|help sos
🔴|red circle|red
🟢|green circle|green
🔵|blue circle|blue
🟡|yellow circle|yellow
🏁|chequered flag|finish done race
🚩|triangular flag|flag
🏳️‍🌈|rainbow flag|pride
🇰🇷|flag: south korea|korea
🇺🇸|flag: united states|usa america
🇬🇧|flag: united kingdom|uk britain
🇫🇷|flag: france|france
🇩🇪|flag: germany|germany
🇯🇵|flag: japan|japan
`;

/** Every emoji offered, common reactions first. */
export const EMOJI: readonly EmojiEntry[] = DATA.trim()
  .split('\n')
  .map((line) => {
    const [emoji = '', name = '', keywords = ''] = line.split('|');
    return { emoji, name, keywords };
  });

/** The most results a search shows: a grid, not a catalogue. */
export const MAX_RESULTS = 48;

/**
 * The emoji whose name or words start with each word of the query (any case), in list order;
 * names first. An empty query gives the start of the list.
 */
export function searchEmoji(query: string, limit = MAX_RESULTS): EmojiEntry[] {
  const words = query.toLowerCase().trim().split(/\s+/).filter(Boolean);
  if (words.length === 0) return EMOJI.slice(0, limit);
  const matches = (entry: EmojiEntry, field: 'name' | 'both') => {
    const haystack = (field === 'name' ? entry.name : `${entry.name} ${entry.keywords}`).split(/[\s:-]+/);
    return words.every((word) => haystack.some((w) => w.startsWith(word)));
  };
  const byName = new Set(EMOJI.filter((e) => matches(e, 'name')));
  const byWord = EMOJI.filter((e) => !byName.has(e) && matches(e, 'both'));
  return [...byName, ...byWord].slice(0, limit);
}

const NAMES = new Map(EMOJI.map((e) => [e.emoji, e.name]));

/** The name of an emoji the list has, for labels ("thumbs up"); the emoji itself otherwise. */
export function emojiName(emoji: string): string {
  return NAMES.get(emoji) ?? emoji;
}
