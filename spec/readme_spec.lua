-- README.md, run: every example in the README runs again, top to bottom,
-- in one scratch folder (what one example makes is there for the next, as
-- for a reader following along), and prints exactly what the README shows.
-- No fenced block is silently ignored; each is taken as one of these:
--
--  - A transcript: a block whose first line is a prompt, `$ ` (or `NAME$ `,
--    NAME being the device in a multi-device example). Each command (with
--    the lines after it while it ends in `\` or a quote is open) runs with
--    sh on a pseudo-terminal (util-linux `script`, as repl_spec), so stdout
--    and stderr interleave as a reader sees them; the lines after it, up to
--    the next prompt, are what it must print. `$ echo $?` must show the
--    exit status of the command before it. `$ synclua` alone is the REPL:
--    the lines `> ...` and `>> ...` after it are fed to `synclua -i`, the
--    others are what it must print (the prompt and newline that the end of
--    input prints are not shown). A command `synclua serve ...` starts in
--    the background and keeps serving until the spec ends (as in a terminal
--    of its own); the lines after it are what it says by the end of the
--    block.
--  - ```lua: run with synclua, in the scratch folder; it must exit 0 and
--    write nothing on stderr. One whose first line is `-- NAME.lua: ...` is
--    saved there as NAME.lua instead, for a later transcript (which must
--    exist) to run.
--  - ```c: its first line is `/* NAME.c: ... */`; saved as NAME.c for a
--    later transcript to build. `make install` of the build under test into
--    a scratch prefix stands for the reader's, and PKG_CONFIG_PATH points
--    there (for a sanitized build, `cc` adds its -fsanitize flags).
--  - A block that is not commands, known by its section: "Two commands"
--    (the make targets it names exist, and its first command's
--    `build/synclua report` is run here, with no --db: the first use of the
--    demo library), the program's synopsis, the layout.
--  - A block right after the line `<!-- readme-spec: skip (why) -->`.
--
-- The devices an expected output may use, no others:
--  - a line `...` (indented or not): any lines here, or none;
--  - `<tmp>`: the scratch folder's path;
--  - loopback ports: `--listen 127.0.0.1:PORT` listens on a free port
--    instead (port 0), `127.0.0.1:PORT` in the commands and scripts after
--    it means that port, and a PORT nothing listens on in the README is
--    one nothing listens on here; output names the README's ports.
--
-- Everything runs with the environment the README states: the scratch
-- folder as the current folder and HOME, XDG_CACHE_HOME=<tmp>/cache,
-- SYNCLUA_NOW=2025-12-04T00:00:00Z, SYNCLUA_UNICODE=0, SYNCLUA_DB unset,
-- and `synclua` on the PATH as the build under test.
local synclua = require "synclua"
local support = dofile("spec/fixtures/support.lua")

local quote = support.quote
local README = "README.md"
local NOW = "2025-12-04T00:00:00Z"
local ROOT = support.capture("pwd"):gsub("\n$", "")
-- The build folder as spec/run names it (relative, so that make rebuilds
-- nothing for `make install`).
local BUILD = (os.getenv("SYNCLUA_BIN") or "build/synclua"):match("^(.*)/")
local SKIP = "^<!%-%- readme%-spec: skip %((.+)%) %-%->$"

------------------------------------------------------------ the README

-- The fenced blocks of a Markdown text, in order: { line (of the opening
-- fence), info, lines, section (the heading above), skip (the reason of a
-- skip comment right before it) }.
local function parse_blocks(text)
  local blocks, section, block, prev = {}, nil, nil, nil
  local n = 0
  for line in (text .. "\n"):gmatch("([^\n]*)\n") do
    n = n + 1
    if block then
      if line:match("^```%s*$") then
        blocks[#blocks + 1] = block
        block = nil
      else
        block.lines[#block.lines + 1] = line
      end
    else
      local info = line:match("^```(%S*)%s*$")
      if info then
        block = { line = n, info = info, lines = {}, section = section,
                  skip = prev and prev:match(SKIP) }
      elseif line:match("^#+ ") then
        section = line:gsub("^#+ ", "")
      end
      if line ~= "" then prev = line end
    end
  end
  assert(not block, README .. ":" .. (block and block.line or 0)
                    .. ": a block is never closed")
  return blocks
end

local PROMPT = "^([%w._-]*)%$ (.*)$"

-- Is a command still open at the end of its text: a trailing backslash,
-- or a quote not closed (outside a comment)?
local function open_command(cmd)
  if cmd:match("\\$") then return true end
  local q, i = nil, 1
  while i <= #cmd do
    local c = cmd:sub(i, i)
    if q == "'" then
      if c == "'" then q = nil end
    elseif q == '"' then
      if c == "\\" then i = i + 1 elseif c == '"' then q = nil end
    elseif c == "\\" then
      i = i + 1
    elseif c == "'" or c == '"' then
      q = c
    elseif c == "#" and (i == 1 or cmd:sub(i - 1, i - 1):match("%s")) then
      while i <= #cmd and cmd:sub(i, i) ~= "\n" do i = i + 1 end
    end
    i = i + 1
  end
  return q ~= nil
end

-- A transcript's steps: { host, cmd, expect = { lines } }.
local function parse_transcript(lines)
  local steps, i = {}, 1
  while i <= #lines do
    local host, cmd = lines[i]:match(PROMPT)
    assert(cmd, "a transcript line that is neither a prompt nor output: "
                .. lines[i])
    i = i + 1
    while open_command(cmd) and i <= #lines do
      cmd = cmd .. "\n" .. lines[i]
      i = i + 1
    end
    local step = { host = host, cmd = cmd, expect = {} }
    while i <= #lines and not lines[i]:match(PROMPT) do
      step.expect[#step.expect + 1] = lines[i]
      i = i + 1
    end
    steps[#steps + 1] = step
  end
  return steps
end

-- Do the actual lines match the expected ones (a line "..." matching any
-- lines, or none; indented too, as in a picture)?
local function matches(expect, actual, i, j)
  i, j = i or 1, j or 1
  if i > #expect then return j > #actual end
  if expect[i]:match("^%s*%.%.%.$") then
    for k = j, #actual + 1 do
      if matches(expect, actual, i + 1, k) then return true end
    end
    return false
  end
  return j <= #actual and expect[i] == actual[j]
         and matches(expect, actual, i + 1, j + 1)
end

-- The lines of a text (a last line without its newline counts).
local function text_lines(text)
  local out = {}
  for line in text:gmatch("([^\n]*)\n") do out[#out + 1] = line end
  local tail = text:match("([^\n]+)$")
  if tail then out[#out + 1] = tail end
  return out
end

------------------------------------------------------------ the session

local S = {}          -- the scratch session, set up in setup()

-- Ports: the README's port -> the one used here.
local function port_for(readme)
  if S.ports[readme] then return S.ports[readme] end
  -- A port nothing listens on: the README's own, unless something does.
  local listening = {}
  for _, f in ipairs({ "/proc/net/tcp", "/proc/net/tcp6" }) do
    local text = support.slurp(f) or ""
    for port, st in text:gmatch(":(%x%x%x%x) [%x:]+ (%x%x) ") do
      if st == "0A" then listening[tonumber(port, 16)] = true end
    end
  end
  local p = tonumber(readme)
  while listening[p] or S.used[p] do p = p + 1 end
  S.ports[readme], S.used[p] = tostring(p), true
  return S.ports[readme]
end

-- A command or script with the README's ports replaced by ours.
local function with_ports(text)
  return (text:gsub("127%.0%.0%.1:(%d+)", function(p)
    return "127.0.0.1:" .. (p == "0" and p or port_for(p))
  end))
end

-- Output as the README writes it: <tmp> for the folder, the README's ports.
local function as_readme(text)
  local back = {}
  for readme, ours in pairs(S.ports) do back[ours] = readme end
  text = text:gsub(S.dir:gsub("%p", "%%%0"), "<tmp>")
  return (text:gsub("127%.0%.0%.1:(%d+)", function(p)
    return "127.0.0.1:" .. (back[p] or p)
  end))
end

-- Run a shell command in the folder, on a pseudo-terminal; returns what it
-- showed (as the README writes it) and its exit status.
local function run_shell(cmd)
  local out = S.tools .. "/out"
  local ok, _, code = os.execute(("cd %s && %s script -qec %s /dev/null "
    .. "</dev/null >%s 2>&1"):format(quote(S.dir), S.env, quote(cmd),
                                     quote(out)))
  local text = (support.slurp(out) or ""):gsub("\r\n", "\n")
  return as_readme(text), ok and 0 or code
end

-- Run synclua with arguments, stdin from a file (or empty), without a
-- terminal; returns stdout, stderr and the exit status.
local function run_synclua(args, stdin)
  local out, err = S.tools .. "/stdout", S.tools .. "/stderr"
  local ok, _, code = os.execute(("cd %s && %s synclua %s <%s >%s 2>%s")
    :format(quote(S.dir), S.env, args, quote(stdin or "/dev/null"),
            quote(out), quote(err)))
  return as_readme(support.slurp(out) or ""),
         as_readme(support.slurp(err) or ""), ok and 0 or code
end

local function show(lines)
  if #lines == 0 then return "  (nothing)" end
  return "  | " .. table.concat(lines, "\n  | ")
end

local function check_output(what, expect, actual, status)
  local got = text_lines(actual)
  assert(matches(expect, got), ("%s\nexpected:\n%s\nactual (exit %s):\n%s")
    :format(what, show(expect), tostring(status), show(got)))
end

-- A process by id: is it still there (and not a zombie)?
local function alive(pid)
  local stat = support.slurp("/proc/" .. pid .. "/stat")
  return stat ~= nil and stat:match("%) (%a)") ~= "Z"
end

local function wait_until(cond, seconds)
  local deadline = os.time() + seconds
  while not cond() do
    if os.time() > deadline then return false end
    support.sleep(0.02)
  end
  return true
end

-- Start `synclua serve ...` in the background; returns the server (its
-- pid, log file and the lines it must have said).
local function start_server(step)
  local host, port = step.cmd:match("%-%-listen%s+([%d.]+):(%d+)")
  assert(port, "a server example without --listen HOST:PORT: " .. step.cmd)
  local cmd = step.cmd:gsub("(%-%-listen%s+[%d.]+:)%d+", "%10")
  local n = #S.servers + 1
  local server = { log = ("%s/server%d.log"):format(S.tools, n),
                   pidfile = ("%s/server%d.pid"):format(S.tools, n),
                   expect = step.expect, cmd = step.cmd }
  os.execute(("cd %s && %s sh -c %s </dev/null >%s 2>&1 &"):format(
    quote(S.dir), S.env, quote("echo $$ >" .. quote(server.pidfile)
                               .. "; exec " .. with_ports(cmd)),
    quote(server.log)))
  S.servers[n] = server
  local first
  wait_until(function()
    first = (support.slurp(server.log) or ""):match("^([^\n]*)\n")
    return first ~= nil
  end, 30)
  server.pid = tonumber((support.slurp(server.pidfile) or ""):match("%d+"))
  local ours = first and first:match(" on " .. host:gsub("%.", "%%.")
                                     .. ":(%d+) ")
  assert(ours, ("%s\ndid not start: %s"):format(step.cmd,
               support.slurp(server.log) or ""))
  S.ports[port], S.used[tonumber(ours)] = ours, true
  return server
end

local function stop_servers()
  for _, server in ipairs(S.servers or {}) do
    local pid = server.pid
    if pid and alive(pid) then
      os.execute(("kill -TERM %d 2>/dev/null"):format(pid))
      if not wait_until(function() return not alive(pid) end, 5) then
        os.execute(("kill -KILL %d 2>/dev/null"):format(pid))
      end
    end
  end
end

-- The REPL: the session's `>`/`>>` lines fed to `synclua -i`.
local function run_repl(lines)
  local input, expect = {}, {}
  for _, line in ipairs(lines) do
    local prompt, text = line:match("^(>>? )(.*)$")
    if prompt then
      input[#input + 1] = text .. "\n"
      expect[#expect + 1] = prompt
    else
      expect[#expect + 1] = line .. "\n"
    end
  end
  expect[#expect + 1] = "> \n"     -- the end of input: a last prompt
  local file = S.tools .. "/repl-input"
  support.spit(file, with_ports(table.concat(input)))
  local out, err, code = run_synclua("-i", file)
  assert.equal(table.concat(expect), out .. err)
  assert.equal(0, code)
end

-- Does a transcript after block `index` run the file `name`?
local function used_later(blocks, index, name)
  for k = index + 1, #blocks do
    local b = blocks[k]
    if b.info == "" and b.lines[1] and b.lines[1]:match(PROMPT) then
      for _, step in ipairs(parse_transcript(b.lines)) do
        if step.cmd:find(name, 1, true) then return true end
      end
    end
  end
  return false
end

-- `make install` of the build under test into a scratch prefix, once.
local function install()
  if S.installed then return end
  S.installed = true
  local log, ok = support.capture(("make -s -C %s install PREFIX=%s BUILD=%s "
    .. "2>&1"):format(quote(ROOT), quote(S.prefix), quote(BUILD)))
  assert(ok, "make install: " .. log)
end

------------------------------------------------------------ the kinds

local run = {}

function run.transcript(block)
  local last, servers = nil, {}
  for _, step in ipairs(parse_transcript(block.lines)) do
    local what = README .. ":" .. block.line .. ": " .. step.cmd
    if step.cmd == "echo $?" then
      assert.same({ tostring(last) }, step.expect, what)
    elseif step.cmd == "synclua" then
      run_repl(step.expect)
    elseif step.cmd:match("^synclua serve%s") then
      servers[#servers + 1] = start_server(step)
    else
      local out, status = run_shell(with_ports(step.cmd))
      check_output(what, step.expect, out, status)
      last = status
    end
  end
  -- What each server said by now (a request's line may come just after
  -- its answer).
  for _, server in ipairs(servers) do
    local said
    wait_until(function()
      said = as_readme(support.slurp(server.log) or "")
      return matches(server.expect, text_lines(said))
    end, 5)
    check_output(README .. ":" .. block.line .. ": " .. server.cmd,
                 server.expect, said, "still serving")
  end
end

function run.lua(block, blocks, index)
  local code = with_ports(table.concat(block.lines, "\n") .. "\n")
  local name = block.lines[1]:match("^%-%- ([%w_.-]+%.lua): ")
  if name then
    assert(used_later(blocks, index, name),
           name .. " is saved but no transcript after it runs it")
    support.spit(S.dir .. "/" .. name, code)
    return
  end
  local file = ("%s/block%d.lua"):format(S.tools, block.line)
  support.spit(file, code)
  local out, err, status = run_synclua(quote(file))
  assert(status == 0 and err == "", ("%s:%d: exit %d\n%s%s"):format(
    README, block.line, status, out, err))
end

function run.c(block, blocks, index)
  local name = block.lines[1]:match("^/%* ([%w_.-]+%.c): ")
  assert(name, "a C example names its file on its first line: /* NAME.c: ")
  assert(used_later(blocks, index, name),
         name .. " is saved but no transcript after it builds it")
  install()
  support.spit(S.dir .. "/" .. name, table.concat(block.lines, "\n") .. "\n")
end

-- "Two commands": install, build and report; install, build and test.
function run.two_commands(block)
  local makefile = assert(support.slurp("Makefile"))
  local firsts = {}
  for _, line in ipairs(block.lines) do
    if not line:match("^#") and line:match("%S") then
      firsts[#firsts + 1] = line
      for words in (line .. "&&"):gmatch("%s*(.-)%s*&&") do
        local target = words:match("^make%s*(%S*)$")
        if target then
          target = target == "" and "all" or target
          assert(makefile:match("\n" .. target:gsub("%-", "%%-") .. ":"),
                 "the Makefile has no target " .. target)
          if target == "all" then
            assert(makefile:match("\n%.PHONY:%s*all") and
                   makefile:match("\nBUILD%s*%?=%s*build\n"),
                   "make builds `all` into build/ by default")
          end
        end
      end
    end
  end
  assert.equal(2, #firsts)
  assert.truthy(firsts[1]:match("&& make && build/synclua report$"), firsts[1])
  assert.truthy(firsts[2]:match("&& make deps && make check$"), firsts[2])

  -- build/synclua report, with no --db: the demo library, made on first
  -- use, then its one-page triage, the verdict first.
  local out, err, status = run_synclua("report")
  local demo = "<tmp>/cache/synclua/demo-" .. synclua.version .. "-1"
  assert.equal("synclua: generating the demo library (first use) in " .. demo
    .. "\nsynclua: no --db and no ./sync.db: using the demo library in "
    .. demo .. " (synclua simulate --help explains it)\n", err)
  assert.equal(1, status)          -- the worst finding: the demo has them all
  local json = run_synclua("report -f json")
  local verdict = assert(synclua.json_decode(json)).verdict
  local lines = text_lines(out)
  assert.equal(verdict, lines[1])
  assert.truthy(lines[2]:match("^window: "), lines[2])
end

-- The program's synopsis: every line a synclua command line.
function run.synopsis(block)
  for _, line in ipairs(block.lines) do
    assert.truthy(line:match("^synclua[ %s]"), line)
  end
  local _, _, listed = run_synclua("--list")
  assert.equal(0, listed)
end

-- The layout: every folder of the tree but build/, and no other.
function run.layout(block)
  local named = {}
  for _, line in ipairs(block.lines) do
    local dir = line:match("^([%w_.-]+)/")
    if dir then named[#named + 1] = dir end
  end
  table.sort(named)
  local tree = {}
  for _, d in ipairs(support.lines(support.capture("ls -d */"))) do
    d = d:gsub("/$", "")
    if d ~= "build" then tree[#tree + 1] = d end
  end
  table.sort(tree)
  assert.same(tree, named)
end

-- What a block is.
local function kind(block)
  if block.skip then return "skip" end
  local first = block.lines[1] or ""
  if block.info == "" and first:match(PROMPT) then return "transcript" end
  if block.info == "lua" then return "lua" end
  if block.info == "c" then return "c" end
  if block.info == "sh" and block.section == "Two commands" then
    return "two_commands"
  end
  if block.info == "" and block.section == "The program"
     and first:match("^synclua ") then
    return "synopsis"
  end
  if block.info == "" and block.section == "Layout" then return "layout" end
  return "unknown"
end

------------------------------------------------------------ the spec

describe("README.md, run top to bottom", function()
  local text = assert(support.slurp(README))
  local blocks = parse_blocks(text)

  setup(function()
    S.dir, S.tools = support.tmpdir(), support.tmpdir()
    S.ports, S.used, S.servers = {}, {}, {}
    local bin = S.tools .. "/bin"
    os.execute(("mkdir -p %s && ln -s %s %s/synclua"):format(
      quote(bin), quote(support.EXE), quote(bin)))
    -- A sanitized build's library links only with its runtime.
    local ldd = support.capture("ldd " .. quote(support.EXE))
    local san = {}
    if ldd:match("libasan") then san[#san + 1] = "address" end
    if ldd:match("libubsan") then san[#san + 1] = "undefined" end
    if #san > 0 then
      support.spit(bin .. "/cc", ("#!/bin/sh\nexec /usr/bin/cc "
        .. "-fsanitize=%s \"$@\"\n"):format(table.concat(san, ",")))
      os.execute("chmod +x " .. quote(bin .. "/cc"))
    end
    S.prefix = S.tools .. "/prefix"
    S.env = table.concat({
      "env -u SYNCLUA_DB -u SYNCLUA_DEBUG -u LUA_INIT -u LUA_INIT_5_4",
      "-u XDG_STATE_HOME",
      "SYNCLUA_NOW=" .. NOW, "SYNCLUA_UNICODE=0", "TERM=dumb",
      "HOME=" .. quote(S.dir),
      "XDG_CACHE_HOME=" .. quote(S.dir .. "/cache"),
      "PATH=" .. quote(bin) .. ":\"$PATH\"", "SHELL=/bin/sh",
      "PKG_CONFIG_PATH=" .. quote(S.prefix .. "/lib/pkgconfig"),
    }, " ")
  end)

  teardown(function()
    stop_servers()
    support.rmdir(S.dir)
    support.rmdir(S.tools)
  end)

  it("has its examples in fenced blocks, each of a kind this spec runs",
     function()
    local skips = 0
    for _, b in ipairs(blocks) do
      assert(kind(b) ~= "unknown", ("%s:%d: a block that is neither run, "
        .. "nor known, nor skipped with a reason"):format(README, b.line))
      if b.skip then skips = skips + 1 end
    end
    local comments = 0
    for line in text:gmatch("[^\n]*readme%-spec[^\n]*") do
      assert(line:match(SKIP), "a malformed skip comment: " .. line)
      comments = comments + 1
    end
    assert(comments == skips, "a skip comment that is not right before a "
                              .. "block")
  end)

  for index, block in ipairs(blocks) do
    local k = kind(block)
    if k ~= "skip" and k ~= "unknown" then
      it(("runs the %s at README.md:%d"):format(k:gsub("_", " "), block.line),
         function()
        run[k](block, blocks, index)
      end)
    end
  end
end)
