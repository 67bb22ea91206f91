-- synclua keygen: a library's pre-shared key for `serve` and `fetch`: 32
-- random bytes as 64 hex digits and a newline, in a file only its owner
-- can read. Every device of the library holds the same key.
local synclua = require "synclua"
local command = require "synclua.command"
local runner = require "synclua.runner"

return command{
  name = "keygen",
  description = "Make a key for serve and fetch (one per library)",
  epilog = "Writes to stdout (made mode 0600 when it is a file: synclua "
    .. "keygen > FILE)\nor to a new file. Copy the file to every device of "
    .. "the library; whoever\nholds it can read their logs. An existing "
    .. "file is never overwritten.",
  inputs = false,
  options = {
    { "-o", "--output", metavar = "FILE",
      help = "write to a new file (mode 0600) instead of stdout" },
  },
  run = function(ctx)
    local path = ctx.opts.output
    runner.check(synclua.write_key(path))
    if path then
      io.stderr:write(("synclua keygen: wrote a new key to %s (mode 0600); library id %s unless "
        .. "you give --library"):format(path,
        synclua.library_id(runner.check(synclua.read_key(path)))) .. "\n")
    end
  end,
}
