-- A task that sets every field; test-task.c checks each one.
return {
  name   = "trip",
  model  = {
    provider    = "openai",
    name        = "gpt-4o",
    base_url    = "http://127.0.0.1:8080/v1",
    api_key     = "sk-test",
    stream      = false,
    context     = 128000,
    max_tokens  = 1024,
    temperature = 0.2,
    price       = { input = 0.15, output = 0.6 },
  },
  system = "You are a travel assistant.",
  goal   = "Book the cheapest direct flight from SFO to JFK on May 20.",
  tools  = {
    "booking",
    web_fetch = { allow_hosts = { "example.org" } },
    "email",
    calc = { timeout = 2 },
  },
  limits  = { steps = 12.0, tokens = 50000, seconds = 120.5, cost = 0.5,
              repeat_calls = 0 },
  approve = { "booking.book_reservation", "email" },
  secrets = { "hunter2", "s3cr3t" },
}
