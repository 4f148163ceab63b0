-- smoke.lua: the smallest world worth running. Three neighbours, two houses
-- and a cafe, one day: the cafe owner is hosting a party this evening, one
-- friend is a regular at the cafe, the third has never met the owner. With
-- the scripted stand-in model (town-model.lua) it runs offline, in seconds,
-- and gives the same timeline for the same seed.
--
--   agent sim examples/sim/smoke.lua --out /tmp/smoke
--   agent sim examples/sim/smoke.lua --until "2023-02-14 21:00" --out /tmp/smoke
--
-- What to look for: Nadia tells Tomas about the party over breakfast at the
-- cafe; Iris, who knows nobody, comes for a coffee in the afternoon and
-- meets them (an acquaintance made, perhaps the party passed on); who of
-- them is at the cafe between 17:00 and 19:00 (metrics.json, "events").
--
-- Lifestyle sentences use a few set phrases that the stand-in reads ("wakes
-- up around 6am", "goes to bed around 11pm", "works at PLACE from 7am to
-- 6pm", "studies at", "works from home", "has breakfast/lunch/dinner at
-- PLACE", "goes to PLACE in the morning/afternoon/evening", "spends
-- evenings at PLACE"); a real model reads them as ordinary English.
return {
  name = "smoke",
  start = "2023-02-14 07:00",
  model = "script:town-model.lua",
  map = {
    { sector = "Corner Cafe", arenas = {
        { arena = "cafe", size = { 14, 10 },
          objects = { "counter", "coffee machine", "pastry case", "table 1",
                      "table 2", "window seat" } },
        { arena = "terrace", size = { 8, 6 },
          objects = { "bench", "outdoor table" } },
        { arena = "kitchen", size = { 6, 5 },
          objects = { "oven", "sink", "refrigerator" } } } },
    { sector = "Blue House", arenas = {
        { arena = "Nadia's bedroom", size = { 6, 5 },
          objects = { "bed", "wardrobe", "desk" } },
        { arena = "Tomas's bedroom", size = { 6, 5 },
          objects = { "bed", "desk", "bookshelf" } },
        { arena = "kitchen", size = { 6, 6 },
          objects = { "stove", "refrigerator", "kitchen table" } } } },
    { sector = "Green House", arenas = {
        { arena = "bedroom", size = { 6, 5 },
          objects = { "bed", "closet" } },
        { arena = "study", size = { 5, 5 },
          objects = { "desk", "typewriter", "armchair" } },
        { arena = "kitchen", size = { 6, 5 },
          objects = { "stove", "refrigerator", "table" } } } },
  },
  personas = {
    { name = "Nadia Petrova", age = 35,
      innate = "warm, energetic, sociable",
      learned = "Nadia Petrova owns Corner Cafe, a small cafe she opened "
             .. "three years ago. She shares the Blue House with her old "
             .. "friend Tomas Reyes and knows most of her customers by name.",
      currently = "Nadia Petrova is hosting a Valentine's Day party at Corner "
               .. "Cafe this evening from 5pm to 7pm and wants to invite "
               .. "everyone she sees today.",
      lifestyle = "Nadia wakes up around 6am and goes to bed around 11pm. "
               .. "She works at Corner Cafe from 7am to 6pm and has lunch "
               .. "at Corner Cafe.",
      home = "Blue House:Nadia's bedroom",
      at = "Blue House:Nadia's bedroom" },
    { name = "Tomas Reyes", age = 27,
      innate = "curious, talkative, a little absent-minded",
      learned = "Tomas Reyes is a graduate student in botany who shares the "
             .. "Blue House with Nadia Petrova. He reads papers at the cafe "
             .. "most mornings.",
      currently = "Tomas Reyes is writing the second chapter of his thesis "
               .. "on wild orchids.",
      lifestyle = "Tomas wakes up around 7am and goes to bed around "
               .. "midnight. He has breakfast at Corner Cafe and works from "
               .. "home from 9am to 4pm. He goes to Corner Cafe in the "
               .. "afternoon.",
      home = "Blue House:Tomas's bedroom",
      at = "Blue House:Tomas's bedroom" },
    { name = "Iris Lindqvist", age = 58,
      innate = "reserved, observant, kind",
      learned = "Iris Lindqvist is a retired schoolteacher who moved into the "
             .. "Green House last month. She writes short stories and does "
             .. "not know anyone in the street yet.",
      currently = "Iris Lindqvist would like to make friends in her new "
               .. "neighbourhood.",
      lifestyle = "Iris wakes up around 7am and goes to bed around 10pm. She "
               .. "works from home from 9am to 12pm and goes to Corner Cafe "
               .. "in the afternoon.",
      home = "Green House:bedroom",
      at = "Green House:bedroom" },
  },
  knows = {
    { "Nadia Petrova", "Tomas Reyes", "housemates and old friends" },
  },
  facts = {
    { id = "party", holder = "Nadia Petrova",
      text = "Nadia Petrova is hosting a Valentine's Day party at Corner Cafe "
          .. "on February 14, 5pm to 7pm",
      event = { place = "Corner Cafe:cafe", from = "2023-02-14 17:00",
                to = "2023-02-14 19:00" } },
  },
}
