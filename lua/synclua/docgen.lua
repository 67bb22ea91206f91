--- synclua.docgen: the man page synclua(1) and the bash completion script,
-- generated from the commands' declarations (DESIGN.md "The command
-- line"), so that neither can drift from what `synclua NAME --help` says.
--
-- Each scripts/NAME.lua is loaded as synclua.runner reads a declaration
-- (its chunk called in an environment of its own that falls back to _G)
-- and described by synclua.cli.describe; a script that cannot be loaded,
-- or whose declaration describe rejects, is left out (`commands` says
-- which and why). The module loads in stock lua5.4; describing the bundled
-- commands needs what they require (synclua, and so synclua.core).
--
-- Run as a program by the built host (the Makefile does, for `make all`):
--
--     synclua lua/synclua/docgen.lua man  [SCRIPTS_DIR] > synclua.1
--     synclua lua/synclua/docgen.lua bash [SCRIPTS_DIR] > synclua.bash
--
-- SCRIPTS_DIR defaults to "scripts"; each skipped script is named on
-- stderr ("synclua docgen: skipped NAME: why").
local cli = require "synclua.cli"
local fs = require "synclua.fs"
local runner = require "synclua.runner"

local M = {}

--- The host program's own options (lua.c's, and --list), as the host's
-- usage text gives them: { names, metavar, help } in that order.
M.program_options = {
  { names = { "-e" }, metavar = "CODE", help = "execute the Lua code CODE" },
  { names = { "-i" },
    help = "enter interactive mode (the REPL) after running the script" },
  { names = { "-l" }, metavar = "MOD",
    help = "require library MOD into global MOD; -l G=MOD into global G" },
  { names = { "-v" }, help = "show version information" },
  { names = { "-E" }, help = "ignore the environment variables LUA_INIT, "
      .. "LUA_PATH, LUA_CPATH and SYNCLUA_HOME" },
  { names = { "-W" }, help = "turn warnings on" },
  { names = { "-h", "--help" }, help = "show the program's usage and exit" },
  { names = { "--list" },
    help = "list the bundled commands, one per line with its description" },
  { names = { "--" }, help = "stop handling options" },
  { names = { "-" }, help = "stop handling options and run standard input" },
}

local function check_arg(fname, i, v, want)
  if type(v) ~= want then
    error(("bad argument #%d to '%s' (%s expected, got %s)")
      :format(i, fname, want, type(v)), 3)
  end
end

--- The bundled commands in a scripts folder, each described, sorted by
-- name (the file name without ".lua", what `synclua NAME` takes).
-- @tparam string dir the scripts folder
-- @treturn {{name=string, command=table},...} the described commands
--   (`command` as synclua.cli.describe returns it)
-- @treturn {{name=string, why=string},...} the scripts left out
-- @return or nil, message, code when the folder cannot be listed
function M.commands(dir)
  check_arg("commands", 1, dir, "string")
  local files, err, code = fs.list(dir)
  if not files then return nil, err, code end
  local commands, skipped = {}, {}
  for _, file in ipairs(files) do
    local name = file:match("^(.+)%.lua$")
    if name then
      local decl, why = runner.declaration(dir .. "/" .. file)
      local ok, described = false, why
      if decl then ok, described = pcall(cli.describe, decl) end
      if ok then
        commands[#commands + 1] = { name = name, command = described }
      else
        skipped[#skipped + 1] = { name = name, why = tostring(described) }
      end
    end
  end
  return commands, skipped
end

local function default_text(v)
  if type(v) == "table" then
    local items = {}
    for i, x in ipairs(v) do items[i] = tostring(x) end
    return table.concat(items, ",")
  end
  return tostring(v)
end

------------------------------------------------------------------ man page

-- Text for roff: backslashes and minus signs escaped, and no line that
-- starts with a control character.
local function roff(s)
  s = tostring(s):gsub("\\", "\\e"):gsub("%-", "\\-")
  return (s:gsub("^([.'])", "\\&%1"):gsub("\n([.'])", "\n\\&%1"))
end

local function bold(s) return "\\fB" .. roff(s) .. "\\fR" end
local function italic(s) return "\\fI" .. roff(s) .. "\\fR" end

-- Prose for the page: paragraphs at blank lines; a paragraph with an
-- indented line keeps its lines as written, any other is filled.
local function prose(out, text)
  local first = true
  for para in (text:gsub("\r", "") .. "\n\n"):gmatch("(.-)\n%s*\n") do
    if para:match("%S") then
      if not first then out[#out + 1] = ".PP" end
      first = false
      if para:match("\n[ \t]") or para:match("^[ \t]") then
        out[#out + 1] = ".nf"
        for line in (para .. "\n"):gmatch("(.-)\n") do
          out[#out + 1] = line == "" and "\\&" or roff(line)
        end
        out[#out + 1] = ".fi"
      else
        for line in (para .. "\n"):gmatch("(.-)\n") do
          line = line:match("^%s*(.-)%s*$")
          if line ~= "" then out[#out + 1] = roff(line) end
        end
      end
    end
  end
end

-- An option's tag line: "-f, --format FORMAT" in bold and italic.
local function option_tag(o)
  if o.positional then return italic(o.names[1]) end
  local names = {}
  for i, n in ipairs(o.names) do names[i] = bold(n) end
  local tag = table.concat(names, ", ")
  if o.metavar then tag = tag .. " " .. italic(o.metavar) end
  return tag
end

-- Does the help text name every value already?
local function names_all(help, values)
  for _, v in ipairs(values) do
    local at, found = 1, false
    while true do
      local i, j = help:find(v, at, true)
      if not i then break end
      local before, after = help:sub(i - 1, i - 1), help:sub(j + 1, j + 1)
      if not before:match("[%w_%-]") and not after:match("[%w_%-]") then
        found = true
        break
      end
      at = j + 1
    end
    if not found then return false end
  end
  return true
end

-- The sentences after an option's help: its values (unless the help names
-- them all), default, repetition.
local function option_notes(o)
  local notes = {}
  if o.values and #o.values > 0 and not names_all(o.help or "", o.values)
  then
    local vs = {}
    for i, v in ipairs(o.values) do vs[i] = bold(v) end
    notes[#notes + 1] = "One of: " .. table.concat(vs, ", ") .. "."
  end
  if o.default ~= nil and not o.flag then
    notes[#notes + 1] = "Default: " .. bold(default_text(o.default)) .. "."
  end
  if o.required then notes[#notes + 1] = "Required." end
  if o.repeatable and not o.positional then
    notes[#notes + 1] = "May be given more than once."
  end
  return notes
end

local function sentence(s)
  s = s:gsub("%s+$", "")
  if s ~= "" and not s:match("[.!?:]$") then s = s .. "." end
  return s
end

--- The man page synclua(1), in roff (the man macros).
-- @tparam {{name=string, command=table},...} commands as `commands`
--   returns them
-- @tparam[opt] table opts `version` (the page's footer)
-- @treturn string the page
function M.man(commands, opts)
  check_arg("man", 1, commands, "table")
  opts = opts or {}
  local out = {}
  local function add(...)
    for _, line in ipairs({ ... }) do out[#out + 1] = line end
  end
  add(('.TH SYNCLUA 1 "" "synclua %s" "User Commands"')
        :format(roff(opts.version or "")),
      ".nh", ".ad l",
      ".SH NAME",
      "synclua \\- read, merge, export and explain a multi\\-device sync "
        .. "engine's event log",
      ".SH SYNOPSIS",
      ".B synclua", ".br",
      ".B synclua",
      ".RB [ \\-e", ".IR CODE ]", ".RB [ \\-l", ".IR MOD ]",
      ".RB [ \\-i ]", ".RB [ \\-v ]", ".RB [ \\-E ]", ".RB [ \\-W ]",
      ".RI [ FILE.lua", ".RI [ ARGS ...]]", ".br",
      ".B synclua", ".I NAME", ".RI [ options ]", ".br",
      ".B synclua \\-\\-list", ".br",
      ".B synclua help", ".RI [ NAME ]",
      ".SH DESCRIPTION",
      ".B synclua",
      "is the sync event log of a multi\\-device sync engine: the events a "
        .. "sync engine logs into",
      ".I sync.db",
      "(Spacedrive's format) and the commands a person debugging sync runs "
        .. "on them.",
      "It is a Lua 5.4 interpreter with the module",
      ".B synclua",
      "preloaded.",
      "Without arguments it starts a REPL; given",
      ".I FILE.lua",
      "it runs that script with",
      ".I ARGS",
      "in the global table",
      ".BR arg ;",
      "given",
      ".I NAME",
      "(a word that is not a file) it runs the bundled command of that "
        .. "name, listed below and by",
      ".BR \"synclua \\-\\-list\" .",
      ".PP",
      "Every command reads its inputs with",
      ".B \\-\\-db",
      "(a sync.db, a library folder, a folder of devices, a glob or an "
        .. "export; repeatable), limits them to a window with",
      ".B \\-\\-since",
      "and",
      ".B \\-\\-until",
      "where it has them, and writes data to standard output (or",
      ".BR \\-o ,",
      "written atomically) and diagnostics to standard error.",
      ".BI \"synclua help \" NAME",
      "and",
      ".BI \"synclua \" NAME \" \\-\\-help\"",
      "describe a command.",
      ".SH OPTIONS",
      "The program's own options, before any",
      ".I FILE.lua",
      "or",
      ".IR NAME :")
  for _, o in ipairs(M.program_options) do
    add(".TP", option_tag(o), roff(sentence(o.help)))
  end
  add(".SH COMMANDS")
  for _, entry in ipairs(commands) do
    local c = entry.command
    add((".SS %s"):format(roff(entry.name)),
        ("\\fBsynclua %s\\fR %s"):format(roff(entry.name),
                                         roff(c.usage)))
    if c.description then add(".PP") prose(out, sentence(c.description)) end
    if c.epilog then add(".PP") prose(out, c.epilog) end
    for _, o in ipairs(c.options) do
      add(".TP", option_tag(o))
      local help = sentence(o.help or "")
      local notes = option_notes(o)
      if help ~= "" then table.insert(notes, 1, roff(help)) end
      add(#notes > 0 and table.concat(notes, " ") or "\\&")
    end
  end
  add(".SH EXIT STATUS",
      ".TP", "\\fB0\\fR", "Success.",
      ".TP", "\\fB1\\fR",
      "A finding the command exists to report (a check that failed, "
        .. "a problem found).",
      ".TP", "\\fB2\\fR",
      "Bad usage or bad input: an unknown command or option, a value that "
        .. "does not parse, an input that is not a store or an export.",
      ".TP", "\\fB3\\fR",
      "The environment failed: a missing, locked, corrupt or unreadable "
        .. "store, or a file that cannot be written.",
      ".PP",
      "A command never shows a Lua traceback (see",
      ".BR SYNCLUA_DEBUG ).",
      ".SH ENVIRONMENT",
      ".TP", ".B SYNCLUA_DB",
      "The inputs of a command given no",
      ".BR \\-\\-db :",
      "a \\fB:\\fR\\-separated list of paths.",
      "Without it a command reads",
      ".IR ./sync.db ,",
      "and the reports fall back to the demo library.",
      ".TP", ".B SYNCLUA_NOW",
      "A time that stands in for the current time (the end of a",
      ".B \\-\\-since",
      "range, the base of \"1 hour ago\", the time stamped on exports), "
        .. "for reproducible output.",
      ".TP", ".B SYNCLUA_DEBUG",
      "When",
      ".BR 1 ,",
      "an unexpected error shows its Lua traceback.",
      ".TP", ".B SYNCLUA_UNICODE",
      ".B 1",
      "or",
      ".B 0",
      "forces Unicode or ASCII pictures; by default Unicode on a terminal "
        .. "with a UTF\\-8 locale.",
      ".TP", ".B SYNCLUA_REDACT_KEY",
      "The key of",
      ".B \\-\\-redact",
      "when no",
      ".B \\-\\-redact\\-key",
      "is given (any text; not empty): the same key gives the same "
        .. "pseudonyms in every run. It is never printed.",
      ".TP", ".B XDG_CACHE_HOME",
      "Where the demo library is made on first use (default",
      ".IR ~/.cache ).",
      ".TP", ".B SYNCLUA_HOME",
      "A folder whose",
      ".I scripts",
      "and",
      ".I lua",
      "folders come before the installed ones.",
      ".TP", ".BR LUA_INIT \", \" LUA_PATH \", \" LUA_CPATH",
      "As for",
      ".BR lua (1).",
      ".SH FILES",
      ".TP", ".I sync.db",
      "A store: an SQLite database with Spacedrive's",
      ".B sync_event_log",
      "table; a library folder holds one.",
      ".TP", ".I PREFIX/share/synclua/scripts/NAME.lua",
      "The bundled commands.",
      ".TP", ".I PREFIX/share/lua/5.4/synclua/",
      "The Lua modules, loadable from",
      ".BR lua5.4 (1)",
      "as",
      ".B synclua",
      "and",
      ".BR synclua. *;",
      "the exporters as",
      ".BR synclua.export. *.",
      ".TP", ".I PREFIX/lib/lua/5.4/synclua/core.so",
      "The C module",
      ".BR synclua.core .",
      ".TP", ".I $XDG_CACHE_HOME/synclua/",
      "The demo library.",
      ".TP", ".I $XDG_STATE_HOME/synclua/history",
      "The REPL's history (default",
      ".IR ~/.local/state/synclua/history ).",
      ".SH SEE ALSO",
      ".BR lua (1),",
      ".BR sqlite3 (1)")
  return table.concat(out, "\n") .. "\n"
end

---------------------------------------------------------- bash completion

-- A word for bash, single-quoted.
local function shq(s)
  return "'" .. tostring(s):gsub("'", [['\'']]) .. "'"
end

-- A shell function name for a command name.
local function fname(name)
  return "_synclua_cmd_" .. name:gsub("[^%w_]", "_")
end

-- A list of words as one quoted shell word (for compgen -W).
local function words(list)
  return shq(table.concat(list, " "))
end

-- What a value of option o completes to: "files", "dirs", a list of
-- values, or nil (nothing offered).
local function value_kind(o)
  if o.values and #o.values > 0 then return o.values end
  if o.type == "inputs" then return "files" end
  local mv = o.metavar or (o.positional and o.names[1]) or ""
  if mv == "DIR" then return "dirs" end
  if mv == "FILE" or mv == "PATH" then return "files" end
  for _, n in ipairs(o.names) do
    if n == "-o" or n == "--output" then return "files" end
  end
  return nil
end

-- The shell code that offers what value_kind says.
local function reply_for(kind)
  if kind == "files" then return "_synclua_files" end
  if kind == "dirs" then return "_synclua_dirs" end
  if type(kind) == "table" then
    return "_synclua_words " .. words(kind)
  end
  return ":"
end

--- The bash completion script: `complete -F _synclua synclua`. The first
-- word completes to the commands (and `help`), or the program's options;
-- after a command, its options; after an option that takes a value, the
-- values of an enum or a format, file names for inputs, paths and -o, and
-- nothing otherwise.
-- @tparam {{name=string, command=table},...} commands as `commands`
--   returns them
-- @treturn string the script
function M.bash(commands)
  check_arg("bash", 1, commands, "table")
  local out = {}
  local function add(s) out[#out + 1] = s end
  local names, program = {}, {}
  for i, entry in ipairs(commands) do names[i] = entry.name end
  local first = { table.unpack(names) }
  first[#first + 1] = "help"
  for _, o in ipairs(M.program_options) do
    for _, n in ipairs(o.names) do
      if n ~= "-" and n ~= "--" then program[#program + 1] = n end
    end
  end
  add("# bash completion for synclua(1), generated by synclua.docgen from "
      .. "the commands'")
  add("# declarations (scripts/*.lua): do not edit.")
  add("")
  add("_synclua_words() { mapfile -t COMPREPLY < <(compgen -W \"$1\" -- "
      .. "\"$cur\"); }")
  add("_synclua_files() {")
  add("  compopt -o filenames 2>/dev/null")
  add("  mapfile -t COMPREPLY < <(compgen -f -- \"$cur\")")
  add("}")
  add("_synclua_dirs() {")
  add("  compopt -o filenames 2>/dev/null")
  add("  mapfile -t COMPREPLY < <(compgen -d -- \"$cur\")")
  add("}")
  for _, entry in ipairs(commands) do
    local c = entry.command
    local opt_words, cases, positional, plain = {}, {}, nil, {}
    local inputs = {}
    for _, o in ipairs(c.options) do
      if o.positional then
        positional = positional or o
      else
        for _, n in ipairs(o.names) do opt_words[#opt_words + 1] = n end
        local kind = not o.flag and value_kind(o)
        if kind then
          cases[#cases + 1] = ("    %s) %s; return 0 ;;")
            :format(table.concat(o.names, "|"), reply_for(kind))
        elseif not o.flag then
          for _, n in ipairs(o.names) do plain[#plain + 1] = n end
        end
        if o.type == "inputs" then
          for _, n in ipairs(o.names) do inputs[#inputs + 1] = n end
        end
      end
    end
    add("")
    add(("# synclua %s"):format(entry.name))
    add(fname(entry.name) .. "() {")
    if #plain > 0 then      -- a value, but nothing to offer
      cases[#cases + 1] = ("    %s) return 0 ;;")
        :format(table.concat(plain, "|"))
    end
    if #cases > 0 then
      add("  case $prev in")
      for _, line in ipairs(cases) do add(line) end
      add("  esac")
    end
    add("  if [[ $cur == -* ]]; then")
    add("    _synclua_words " .. words(opt_words))
    if #inputs > 0 then
      -- an inputs option takes the words after it too (a shell glob)
      add("  elif [[ \" " .. table.concat(inputs, " ")
          .. " \" == *\" $lastopt \"* ]]; then")
      add("    _synclua_files")
    end
    if positional then
      add("  else")
      add("    " .. reply_for(value_kind(positional)))
    end
    add("  fi")
    add("}")
  end
  add("")
  add("_synclua() {")
  add("  local cur=${COMP_WORDS[COMP_CWORD]} prev= cmd= cmdi= lastopt= i")
  add("  ((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD-1]}")
  add("  # --opt=value, split by COMP_WORDBREAKS or not")
  add("  if [[ $cur == = ]]; then cur=")
  add("  elif [[ $prev == = ]] && ((COMP_CWORD > 1)); then "
      .. "prev=${COMP_WORDS[COMP_CWORD-2]}")
  add("  elif [[ $cur == --*=* ]]; then prev=${cur%%=*} cur=${cur#*=}")
  add("  fi")
  add("  COMPREPLY=()")
  add("  for ((i = 1; i < COMP_CWORD; i++)); do")
  add("    if [[ -z $cmd ]]; then")
  add("      case ${COMP_WORDS[i]} in")
  add("        -e|-l) ((i++)) ;;")
  add("        -*) ;;")
  add("        *) cmd=${COMP_WORDS[i]} cmdi=$i ;;")
  add("      esac")
  add("    elif [[ ${COMP_WORDS[i]} == -* ]]; then")
  add("      lastopt=${COMP_WORDS[i]}")
  add("    fi")
  add("  done")
  add("  case $cmd in")
  add("    '')")
  add("      case $prev in -e|-l) return 0 ;; esac")
  add("      if [[ $cur == -* ]]; then _synclua_words " .. words(program))
  add("      elif [[ $cur == */* || $cur == *.lua ]]; then _synclua_files")
  add("      else _synclua_words " .. words(first))
  add("      fi ;;")
  add("    help) ((COMP_CWORD == cmdi + 1)) && _synclua_words "
      .. words(names) .. " ;;")
  for _, entry in ipairs(commands) do
    add(("    %s) %s ;;"):format(shq(entry.name), fname(entry.name)))
  end
  add("    *) _synclua_files ;;")
  add("  esac")
  add("  return 0")
  add("}")
  add("complete -F _synclua synclua")
  return table.concat(out, "\n") .. "\n"
end

----------------------------------------------------------------- program

local what = ...
if what == "synclua.docgen" then return M end    -- required: the module

-- Run as a program: a command on the frame (written to stdout, or -o).
return require("synclua.command"){
  name = "docgen",
  description = "Write the man page or the bash completion script of the "
    .. "bundled commands",
  inputs = false, formats = { "text" },
  options = {
    { "WHAT", positional = true, type = "enum", values = { "man", "bash" },
      help = "man: synclua(1) in roff; bash: the completion script" },
    { "SCRIPTS_DIR", positional = true, optional = true, default = "scripts",
      help = "the commands' folder" },
  },
  run = function(ctx)
    local opts = ctx.opts
    local commands, skipped, code = M.commands(opts.SCRIPTS_DIR)
    if not commands then return nil, skipped, code end
    for _, s in ipairs(skipped) do
      ctx:note(("skipped %s: %s"):format(s.name, s.why:match("[^\n]*")))
    end
    if opts.WHAT == "man" then
      ctx.out:write(M.man(commands, { version = require("synclua").version }))
    else
      ctx.out:write(M.bash(commands))
    end
  end,
}
