-- town.lua: Willowbrook, a small town of 25 people, in the spirit of the
-- Smallville of "Generative Agents" (Park et al., 2023). Rosa Delgado, who
-- runs Juniper Cafe, is hosting a Valentine's Day party there on February 14
-- from 5pm to 7pm; on the morning of February 13 nobody else knows. Does
-- word get round, who makes new acquaintances, who shows up? Two more facts
-- are seeded to compare with: Walter Greene's decision to run for mayor (a
-- secret he is keen to share) and Amara Nwosu's photography exhibition (no
-- event inside the run).
--
--   agent sim examples/sim/town.lua --until "2023-02-14 21:00" --out /tmp/town
--   agent sim interview /tmp/town "Walter Greene" "Do you know about a party?"
--   agent sim view /tmp/town
--
-- The stand-in model (town-model.lua) plays all 25 offline. With a real
-- model: --model openai:gpt-4o-mini (then expect a few thousand calls).
--
-- Lifestyle sentences use a few set phrases that the stand-in reads ("wakes
-- up around 6am", "goes to bed around 11pm", "works at PLACE from 8am to
-- 6pm", "studies at PLACE from ...", "works from home from ...", "has
-- breakfast/lunch/dinner at PLACE", "goes to PLACE in the morning/afternoon/
-- evening", "spends evenings at PLACE"), PLACE being a sector's name; a real
-- model reads them as ordinary English.
--
-- The map: the first arena of every public sector is its main room (where
-- people go when nothing more precise is asked for); homes are the arenas
-- people sleep in.
return {
  name = "willowbrook",
  start = "2023-02-13 07:00",
  model = "script:town-model.lua",
  map = {
    { sector = "Juniper Cafe", arenas = {
        { arena = "cafe", size = { 20, 12 },
          objects = { "counter", "coffee machine", "pastry case", "table 1",
                      "table 2", "table 3", "window booth", "piano" } },
        { arena = "kitchen", size = { 8, 6 },
          objects = { "oven", "stove", "refrigerator", "sink" } } } },
    { sector = "Maple Ridge College", arenas = {
        { arena = "classroom", size = { 16, 12 },
          objects = { "lectern", "blackboard", "student desks", "projector" } },
        { arena = "library", size = { 20, 14 },
          objects = { "bookshelves", "reading table", "computer desk",
                      "study carrel" } },
        { arena = "common room", size = { 12, 10 },
          objects = { "sofa", "vending machine", "notice board",
                      "lunch table" } },
        { arena = "faculty office", size = { 8, 6 },
          objects = { "desk", "bookshelf", "armchair" } } } },
    { sector = "Maple Ridge College Dorm", arenas = {
        { arena = "common kitchen", size = { 10, 8 },
          objects = { "stove", "refrigerator", "kitchen table", "kettle" } },
        { arena = "lounge", size = { 10, 8 },
          objects = { "sofa", "television", "game console" } },
        { arena = "Lena's room", size = { 5, 5 },
          objects = { "bed", "desk", "streaming setup" } },
        { arena = "Omar's room", size = { 5, 5 },
          objects = { "bed", "desk", "bookshelf" } },
        { arena = "Priya's room", size = { 5, 5 },
          objects = { "bed", "desk", "reading chair" } },
        { arena = "Theo's room", size = { 5, 5 },
          objects = { "bed", "desk", "telescope" } } } },
    { sector = "Birchwood Supply Store", arenas = {
        { arena = "shop floor", size = { 14, 10 },
          objects = { "cash register", "tool shelves", "paint aisle",
                      "garden supplies" } },
        { arena = "storeroom", size = { 8, 6 },
          objects = { "boxes", "workbench", "forklift" } } } },
    { sector = "Linden Park", arenas = {
        { arena = "lawn", size = { 24, 20 },
          objects = { "bench", "fountain", "picnic table", "oak tree" } },
        { arena = "community garden", size = { 12, 10 },
          objects = { "flower beds", "vegetable patch", "garden shed" } },
        { arena = "pond path", size = { 20, 6 },
          objects = { "pond", "bench by the pond", "footbridge" } } } },
    { sector = "The Copper Kettle Pub", arenas = {
        { arena = "bar", size = { 14, 10 },
          objects = { "bar counter", "beer taps", "stage", "pool table",
                      "booth", "dartboard" } },
        { arena = "back office", size = { 5, 5 },
          objects = { "desk", "safe" } } } },
    { sector = "Greenway Market and Pharmacy", arenas = {
        { arena = "shop", size = { 16, 12 },
          objects = { "pharmacy counter", "grocery shelves", "checkout",
                      "medicine cabinet", "fresh produce" } },
        { arena = "stockroom", size = { 8, 6 },
          objects = { "boxes", "refrigerated shelves" } } } },
    { sector = "Greene house", arenas = {
        { arena = "bedroom", size = { 6, 5 },
          objects = { "bed", "wardrobe", "dresser" } },
        { arena = "kitchen", size = { 6, 6 },
          objects = { "stove", "refrigerator", "kitchen table" } },
        { arena = "living room", size = { 8, 6 },
          objects = { "sofa", "armchair", "television", "bookshelf" } },
        { arena = "studio", size = { 5, 5 },
          objects = { "easel", "paint table", "drying rack" } } } },
    { sector = "Okafor house", arenas = {
        { arena = "Victor and Grace's bedroom", size = { 6, 5 },
          objects = { "bed", "wardrobe" } },
        { arena = "Daniel's bedroom", size = { 5, 5 },
          objects = { "bed", "keyboard piano", "desk" } },
        { arena = "kitchen", size = { 7, 6 },
          objects = { "stove", "refrigerator", "dining table" } },
        { arena = "living room", size = { 8, 6 },
          objects = { "sofa", "television", "bookshelf" } } } },
    { sector = "Sato house", arenas = {
        { arena = "Kenji and Aiko's bedroom", size = { 6, 5 },
          objects = { "bed", "wardrobe", "desk" } },
        { arena = "Yuki's bedroom", size = { 5, 5 },
          objects = { "bed", "desk", "microscope" } },
        { arena = "kitchen", size = { 7, 6 },
          objects = { "stove", "refrigerator", "dining table" } },
        { arena = "living room", size = { 8, 6 },
          objects = { "sofa", "television", "tea table" } } } },
    { sector = "Riverside Apartments", arenas = {
        { arena = "apartment 1A", size = { 6, 6 },
          objects = { "bed", "kitchenette", "sofa", "desk" } },
        { arena = "apartment 1B", size = { 6, 6 },
          objects = { "bed", "kitchenette", "writing desk", "sofa" } },
        { arena = "apartment 2A", size = { 6, 6 },
          objects = { "bed", "kitchenette", "computer desk", "sofa" } },
        { arena = "apartment 2B", size = { 6, 6 },
          objects = { "bed", "kitchenette", "chessboard", "desk" } },
        { arena = "apartment 3A", size = { 6, 6 },
          objects = { "bed", "kitchenette", "guitar", "sofa" } } } },
    { sector = "Elm Street Apartments", arenas = {
        { arena = "apartment 1", size = { 6, 6 },
          objects = { "bed", "kitchenette", "desk", "filing cabinet" } },
        { arena = "apartment 2", size = { 6, 6 },
          objects = { "bed", "kitchenette", "desk", "sofa" } },
        { arena = "apartment 3", size = { 6, 6 },
          objects = { "bed", "kitchenette", "recliner", "television" } },
        { arena = "apartment 4", size = { 6, 6 },
          objects = { "bed", "kitchenette", "sofa", "sewing machine" } } } },
    { sector = "Artists' Loft", arenas = {
        { arena = "studio", size = { 14, 10 },
          objects = { "easels", "light table", "photo printer",
                      "drawing tablet", "worktable" } },
        { arena = "shared kitchen", size = { 8, 6 },
          objects = { "stove", "refrigerator", "long table" } },
        { arena = "Amara's room", size = { 5, 5 },
          objects = { "bed", "camera shelf" } },
        { arena = "Diego's room", size = { 5, 5 },
          objects = { "bed", "canvas stack" } },
        { arena = "Jade's room", size = { 5, 5 },
          objects = { "bed", "desk" } },
        { arena = "Marco's room", size = { 5, 5 },
          objects = { "bed", "notebook desk" } } } },
  },

  personas = {
    { name = "Rosa Delgado", age = 34,
      innate = "warm, outgoing, hospitable, organised",
      learned = "Rosa Delgado owns and runs Juniper Cafe, the busiest cafe "
             .. "in Willowbrook. She loves making people feel at home and "
             .. "knows most of her regulars by name.",
      currently = "Rosa Delgado is planning a Valentine's Day party at "
               .. "Juniper Cafe on February 14 from 5pm to 7pm and wants to "
               .. "invite as many friends and customers as she can.",
      lifestyle = "Rosa wakes up around 6am and goes to bed around 11pm. "
               .. "She works at Juniper Cafe from 7am to 8pm and has lunch "
               .. "at Juniper Cafe.",
      home = "Riverside Apartments:apartment 1A",
      at = "Riverside Apartments:apartment 1A" },
    { name = "Ben Carter", age = 24,
      innate = "cheerful, easygoing, a bit forgetful",
      learned = "Ben Carter is a barista at Juniper Cafe who plays guitar in "
             .. "his spare time and dreams of recording an album.",
      currently = "Ben Carter is saving up for a new guitar and trying to "
               .. "write one song a week.",
      lifestyle = "Ben wakes up around 7am and goes to bed around midnight. "
               .. "He works at Juniper Cafe from 8am to 4pm and spends "
               .. "evenings at The Copper Kettle Pub.",
      home = "Riverside Apartments:apartment 3A",
      at = "Riverside Apartments:apartment 3A" },
    { name = "Lena Fischer", age = 21,
      innate = "bright, playful, a little impatient",
      learned = "Lena Fischer is an economics student at Maple Ridge "
             .. "College who streams video games in the evenings. She is "
             .. "a regular at Juniper Cafe and a friend of Rosa Delgado.",
      currently = "Lena Fischer is preparing for a microeconomics exam and "
               .. "has a crush on her classmate Omar Haddad.",
      lifestyle = "Lena wakes up around 8am and goes to bed around 1am. She "
               .. "studies at Maple Ridge College from 10am to 3pm, has "
               .. "lunch at Juniper Cafe and streams games from her room in "
               .. "the evening.",
      home = "Maple Ridge College Dorm:Lena's room",
      at = "Maple Ridge College Dorm:Lena's room" },
    { name = "Omar Haddad", age = 20,
      innate = "thoughtful, earnest, inquisitive",
      learned = "Omar Haddad is a sociology student at Maple Ridge College "
             .. "researching how small businesses bring a neighbourhood "
             .. "together.",
      currently = "Omar Haddad is interviewing local shop owners for his "
               .. "research paper.",
      lifestyle = "Omar wakes up around 7am and goes to bed around 11pm. He "
               .. "has breakfast at Juniper Cafe, studies at Maple Ridge "
               .. "College from 9am to 4pm and goes to Linden Park in the "
               .. "evening.",
      home = "Maple Ridge College Dorm:Omar's room",
      at = "Maple Ridge College Dorm:Omar's room" },
    { name = "Priya Raman", age = 22,
      innate = "quiet, witty, determined",
      learned = "Priya Raman is a literature student at Maple Ridge College "
             .. "writing her thesis on Victorian novels.",
      currently = "Priya Raman is behind on her thesis chapter and spends "
               .. "long hours in the library.",
      lifestyle = "Priya wakes up around 7am and goes to bed around "
               .. "midnight. She studies at Maple Ridge College from 9am to "
               .. "5pm and has dinner at home.",
      home = "Maple Ridge College Dorm:Priya's room",
      at = "Maple Ridge College Dorm:Priya's room" },
    { name = "Theo Brandt", age = 21,
      innate = "shy, methodical, kind",
      learned = "Theo Brandt is a physics student at Maple Ridge College who "
             .. "runs every morning and builds small telescopes.",
      currently = "Theo Brandt is working on a lab report with Yuki Sato.",
      lifestyle = "Theo wakes up around 6am and goes to bed around 10pm. He "
               .. "goes to Linden Park in the morning to run and studies at "
               .. "Maple Ridge College from 10am to 6pm.",
      home = "Maple Ridge College Dorm:Theo's room",
      at = "Maple Ridge College Dorm:Theo's room" },
    { name = "Walter Greene", age = 64,
      innate = "talkative, civic-minded, stubborn",
      learned = "Walter Greene is a retired postal carrier who has lived in "
             .. "Willowbrook all his life and knows everyone on his old "
             .. "route.",
      currently = "Walter Greene has decided to run for mayor of Willowbrook "
               .. "in next month's election and is starting to tell people.",
      lifestyle = "Walter wakes up around 6am and goes to bed around 10pm. "
               .. "He goes to Linden Park in the morning, has lunch at "
               .. "Juniper Cafe and spends evenings at The Copper Kettle Pub.",
      home = "Greene house:bedroom",
      at = "Greene house:bedroom" },
    { name = "Helen Greene", age = 61,
      innate = "gentle, patient, artistic",
      learned = "Helen Greene is a watercolour painter married to Walter "
             .. "Greene. She teaches a painting class for children on "
             .. "Saturdays.",
      currently = "Helen Greene is painting a series of winter landscapes "
               .. "of Linden Park.",
      lifestyle = "Helen wakes up around 7am and goes to bed around 10pm. "
               .. "She works from home from 9am to 1pm, painting in her "
               .. "studio, and goes to Linden Park in the afternoon.",
      home = "Greene house:bedroom",
      at = "Greene house:bedroom" },
    { name = "Victor Okafor", age = 45,
      innate = "practical, generous, hard-working",
      learned = "Victor Okafor owns Birchwood Supply Store, the hardware "
             .. "and garden store his father opened.",
      currently = "Victor Okafor is worried that a big chain store will "
               .. "open nearby and is thinking about how to keep his "
               .. "customers.",
      lifestyle = "Victor wakes up around 6am and goes to bed around 11pm. "
               .. "He works at Birchwood Supply Store from 8am to 6pm.",
      home = "Okafor house:Victor and Grace's bedroom",
      at = "Okafor house:Victor and Grace's bedroom" },
    { name = "Grace Okafor", age = 43,
      innate = "caring, organised, sociable",
      learned = "Grace Okafor is Victor's wife and Daniel's mother. She "
             .. "looks after the family and runs the community garden in "
             .. "Linden Park.",
      currently = "Grace Okafor is planning the spring planting of the "
               .. "community garden.",
      lifestyle = "Grace wakes up around 6am and goes to bed around 10pm. "
               .. "She goes to Linden Park in the morning to tend the "
               .. "community garden and goes to Greenway Market and Pharmacy "
               .. "in the afternoon.",
      home = "Okafor house:Victor and Grace's bedroom",
      at = "Okafor house:Victor and Grace's bedroom" },
    { name = "Daniel Okafor", age = 19,
      innate = "dreamy, musical, loyal",
      learned = "Daniel Okafor is a music student at Maple Ridge College who "
             .. "plays the piano and composes film music.",
      currently = "Daniel Okafor is composing a piece for his end-of-term "
               .. "recital.",
      lifestyle = "Daniel wakes up around 8am and goes to bed around "
               .. "midnight. He studies at Maple Ridge College from 10am to "
               .. "3pm and goes to Juniper Cafe in the afternoon.",
      home = "Okafor house:Daniel's bedroom",
      at = "Okafor house:Daniel's bedroom" },
    { name = "Kenji Sato", age = 50,
      innate = "calm, precise, reserved",
      learned = "Kenji Sato is the pharmacist who runs Greenway Market and "
             .. "Pharmacy, where most of the town buys its groceries.",
      currently = "Kenji Sato is training for a half marathon in the spring.",
      lifestyle = "Kenji wakes up around 6am and goes to bed around 10pm. He "
               .. "works at Greenway Market and Pharmacy from 8am to 7pm.",
      home = "Sato house:Kenji and Aiko's bedroom",
      at = "Sato house:Kenji and Aiko's bedroom" },
    { name = "Aiko Sato", age = 48,
      innate = "curious, articulate, demanding",
      learned = "Aiko Sato is a professor of philosophy at Maple Ridge "
             .. "College, married to Kenji Sato.",
      currently = "Aiko Sato is writing a book on the ethics of friendship.",
      lifestyle = "Aiko wakes up around 6am and goes to bed around 11pm. She "
               .. "works at Maple Ridge College from 9am to 5pm and has "
               .. "lunch at Maple Ridge College.",
      home = "Sato house:Kenji and Aiko's bedroom",
      at = "Sato house:Kenji and Aiko's bedroom" },
    { name = "Yuki Sato", age = 20,
      innate = "energetic, frank, adventurous",
      learned = "Yuki Sato is a biology student at Maple Ridge College and "
             .. "the daughter of Kenji and Aiko Sato.",
      currently = "Yuki Sato is looking for a summer internship at a marine "
               .. "research station.",
      lifestyle = "Yuki wakes up around 7am and goes to bed around midnight. "
               .. "She studies at Maple Ridge College from 9am to 3pm and "
               .. "goes to Linden Park in the afternoon.",
      home = "Sato house:Yuki's bedroom",
      at = "Sato house:Yuki's bedroom" },
    { name = "Marta Kowalski", age = 38,
      innate = "direct, reliable, funny",
      learned = "Marta Kowalski works at Birchwood Supply Store and knows "
             .. "every tool in it. She sews her own clothes.",
      currently = "Marta Kowalski is redecorating her apartment.",
      lifestyle = "Marta wakes up around 7am and goes to bed around 11pm. "
               .. "She works at Birchwood Supply Store from 9am to 6pm and "
               .. "has lunch at Juniper Cafe.",
      home = "Elm Street Apartments:apartment 4",
      at = "Elm Street Apartments:apartment 4" },
    { name = "Nora Bell", age = 40,
      innate = "imaginative, soft-spoken, observant",
      learned = "Nora Bell writes and illustrates children's books about a "
             .. "fox who lives in a library.",
      currently = "Nora Bell is finishing the fourth book of her series.",
      lifestyle = "Nora wakes up around 7am and goes to bed around 11pm. She "
               .. "works from home from 9am to 2pm and goes to Linden Park in "
               .. "the afternoon.",
      home = "Riverside Apartments:apartment 1B",
      at = "Riverside Apartments:apartment 1B" },
    { name = "Frank Mulligan", age = 52,
      innate = "gregarious, blunt, big-hearted",
      learned = "Frank Mulligan owns The Copper Kettle Pub and tends its "
             .. "bar himself; he hosts the town's quiz night.",
      currently = "Frank Mulligan is looking for acts for the pub's open "
               .. "stage nights.",
      lifestyle = "Frank wakes up around 9am and goes to bed around 1am. He "
               .. "works at The Copper Kettle Pub from 4pm to midnight and "
               .. "has lunch at Juniper Cafe.",
      home = "Elm Street Apartments:apartment 3",
      at = "Elm Street Apartments:apartment 3" },
    { name = "Sanjay Mehta", age = 29,
      innate = "analytical, friendly, restless",
      learned = "Sanjay Mehta is a software engineer who works remotely for "
             .. "a company in the city.",
      currently = "Sanjay Mehta is building a small app to help neighbours "
               .. "share tools.",
      lifestyle = "Sanjay wakes up around 7am and goes to bed around "
               .. "midnight. He goes to Juniper Cafe in the morning, works "
               .. "from home from 9am to 6pm and spends evenings at The "
               .. "Copper Kettle Pub.",
      home = "Riverside Apartments:apartment 2A",
      at = "Riverside Apartments:apartment 2A" },
    { name = "Luca Romano", age = 36,
      innate = "absent-minded, passionate, generous",
      learned = "Luca Romano is a mathematician who lectures at Maple Ridge "
             .. "College and plays chess with anyone who will sit down.",
      currently = "Luca Romano is stuck on a proof and hoping a change of "
               .. "scenery will help.",
      lifestyle = "Luca wakes up around 8am and goes to bed around 1am. He "
               .. "works at Maple Ridge College from 10am to 4pm and spends "
               .. "evenings at The Copper Kettle Pub.",
      home = "Riverside Apartments:apartment 2B",
      at = "Riverside Apartments:apartment 2B" },
    { name = "Chloe Bennett", age = 27,
      innate = "inquisitive, lively, scattered",
      learned = "Chloe Bennett is a freelance writer who covers local news "
             .. "for the Willowbrook Gazette.",
      currently = "Chloe Bennett is looking for a good story for this "
               .. "week's issue of the Gazette.",
      lifestyle = "Chloe wakes up around 8am and goes to bed around "
               .. "midnight. She works at Juniper Cafe from 10am to 3pm, "
               .. "writing on her laptop, and goes to Linden Park in the "
               .. "afternoon.",
      home = "Elm Street Apartments:apartment 2",
      at = "Elm Street Apartments:apartment 2" },
    { name = "Amara Nwosu", age = 31,
      innate = "patient, perceptive, independent",
      learned = "Amara Nwosu is a photographer who shares the Artists' Loft "
             .. "with three other artists.",
      currently = "Amara Nwosu is preparing her first solo exhibition.",
      lifestyle = "Amara wakes up around 6am and goes to bed around 11pm. "
               .. "She goes to Linden Park in the morning to take "
               .. "photographs and works from home from 10am to 5pm.",
      home = "Artists' Loft:Amara's room",
      at = "Artists' Loft:Amara's room" },
    { name = "Diego Alvarez", age = 33,
      innate = "intense, romantic, moody",
      learned = "Diego Alvarez is a painter of large abstract canvases who "
             .. "lives in the Artists' Loft.",
      currently = "Diego Alvarez is struggling to finish a commission for "
               .. "the town library.",
      lifestyle = "Diego wakes up around 9am and goes to bed around 1am. He "
               .. "works from home from 11am to 7pm and spends evenings at "
               .. "The Copper Kettle Pub.",
      home = "Artists' Loft:Diego's room",
      at = "Artists' Loft:Diego's room" },
    { name = "Jade Wu", age = 26,
      innate = "creative, shy, meticulous",
      learned = "Jade Wu is an animator who draws short films and lives in "
             .. "the Artists' Loft.",
      currently = "Jade Wu is animating a one-minute film for a festival.",
      lifestyle = "Jade wakes up around 7am and goes to bed around midnight. "
               .. "She works from home from 8am to 3pm and goes to Juniper "
               .. "Cafe in the afternoon.",
      home = "Artists' Loft:Jade's room",
      at = "Artists' Loft:Jade's room" },
    { name = "Marco Silva", age = 30,
      innate = "funny, restless, warm",
      learned = "Marco Silva is a stand-up comedian who performs at The "
             .. "Copper Kettle Pub and lives in the Artists' Loft.",
      currently = "Marco Silva is writing new material about small-town "
               .. "life.",
      lifestyle = "Marco wakes up around 9am and goes to bed around 1am. He "
               .. "goes to Juniper Cafe in the afternoon to write jokes and "
               .. "works at The Copper Kettle Pub from 8pm to 10pm, "
               .. "performing stand-up.",
      home = "Artists' Loft:Marco's room",
      at = "Artists' Loft:Marco's room" },
    { name = "Hannah Weiss", age = 42,
      innate = "sharp, careful, dry-humoured",
      learned = "Hannah Weiss is a tax lawyer who works from her apartment "
             .. "for clients across the county.",
      currently = "Hannah Weiss is swamped with clients before the tax "
               .. "deadline.",
      lifestyle = "Hannah wakes up around 6am and goes to bed around 10pm. "
               .. "She works from home from 8am to 5pm and goes to Greenway "
               .. "Market and Pharmacy in the evening.",
      home = "Elm Street Apartments:apartment 1",
      at = "Elm Street Apartments:apartment 1" },
  },

  knows = {
    -- families
    { "Walter Greene", "Helen Greene", "married for 38 years" },
    { "Victor Okafor", "Grace Okafor", "married" },
    { "Victor Okafor", "Daniel Okafor", "father and son" },
    { "Grace Okafor", "Daniel Okafor", "mother and son" },
    { "Kenji Sato", "Aiko Sato", "married" },
    { "Kenji Sato", "Yuki Sato", "father and daughter" },
    { "Aiko Sato", "Yuki Sato", "mother and daughter" },
    -- co-workers
    { "Rosa Delgado", "Ben Carter", "co-workers at Juniper Cafe" },
    { "Victor Okafor", "Marta Kowalski",
      "co-workers at Birchwood Supply Store" },
    { "Aiko Sato", "Luca Romano", "colleagues at Maple Ridge College" },
    { "Frank Mulligan", "Marco Silva", "Marco performs at Frank's pub" },
    -- the college
    { "Lena Fischer", "Omar Haddad", "classmates" },
    { "Omar Haddad", "Priya Raman", "friends" },
    { "Lena Fischer", "Priya Raman", "dorm neighbours" },
    { "Priya Raman", "Theo Brandt", "dorm neighbours" },
    { "Aiko Sato", "Omar Haddad", "professor and student" },
    { "Aiko Sato", "Priya Raman", "professor and student" },
    { "Daniel Okafor", "Yuki Sato", "classmates and friends" },
    { "Theo Brandt", "Yuki Sato", "lab partners" },
    { "Luca Romano", "Theo Brandt", "lecturer and student" },
    -- neighbours
    { "Rosa Delgado", "Nora Bell", "neighbours" },
    { "Sanjay Mehta", "Luca Romano", "neighbours and chess partners" },
    { "Ben Carter", "Sanjay Mehta", "neighbours" },
    { "Hannah Weiss", "Chloe Bennett", "neighbours" },
    { "Frank Mulligan", "Marta Kowalski", "neighbours" },
    { "Grace Okafor", "Aiko Sato", "friends from the neighbourhood" },
    -- the Artists' Loft
    { "Amara Nwosu", "Diego Alvarez", "housemates" },
    { "Amara Nwosu", "Jade Wu", "housemates" },
    { "Amara Nwosu", "Marco Silva", "housemates" },
    { "Diego Alvarez", "Jade Wu", "housemates" },
    { "Diego Alvarez", "Marco Silva", "housemates" },
    { "Jade Wu", "Marco Silva", "housemates" },
    -- friends, regulars, clients
    { "Rosa Delgado", "Lena Fischer",
      "friends; Lena is a regular at the cafe" },
    { "Rosa Delgado", "Walter Greene", "Walter is a regular at the cafe" },
    { "Rosa Delgado", "Frank Mulligan", "friends and fellow business owners" },
    { "Rosa Delgado", "Chloe Bennett", "Chloe writes at the cafe every day" },
    { "Walter Greene", "Frank Mulligan", "Walter is a regular at the pub" },
    { "Walter Greene", "Victor Okafor", "old friends" },
    { "Walter Greene", "Kenji Sato", "friends" },
    { "Helen Greene", "Diego Alvarez", "fellow painters" },
    { "Helen Greene", "Grace Okafor", "garden club" },
    { "Helen Greene", "Nora Bell",
      "friends; Helen illustrated one of Nora's books" },
    { "Ben Carter", "Marco Silva", "friends" },
    { "Ben Carter", "Frank Mulligan", "Ben is a regular at the pub" },
    { "Luca Romano", "Frank Mulligan", "Luca is a regular at the pub" },
    { "Chloe Bennett", "Nora Bell", "writing group" },
    { "Hannah Weiss", "Victor Okafor", "Hannah does Victor's taxes" },
    { "Sanjay Mehta", "Jade Wu", "met at a game developers' meetup" },
    { "Grace Okafor", "Kenji Sato", "Grace shops at his store" },
  },

  facts = {
    { id = "party", holder = "Rosa Delgado",
      text = "Rosa Delgado is hosting a Valentine's Day party at Juniper "
          .. "Cafe on February 14, 5pm to 7pm",
      event = { place = "Juniper Cafe:cafe", from = "2023-02-14 17:00",
                to = "2023-02-14 19:00" } },
    { id = "mayor", holder = "Walter Greene",
      text = "Walter Greene is running for mayor of Willowbrook in next "
          .. "month's election" },
    { id = "exhibit", holder = "Amara Nwosu",
      text = "Amara Nwosu is opening a photography exhibition at the Maple "
          .. "Ridge College library on February 20" },
  },
}
