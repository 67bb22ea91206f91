-- Runs busted inside the synclua host, so the specs exercise exactly the
-- build under test (plain or sanitized): `build/synclua spec/busted.lua`.
require("busted.runner")({ standalone = false })
