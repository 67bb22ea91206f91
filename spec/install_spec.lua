-- `make install` into a scratch prefix, from the build under test
-- ($SYNCLUA_BIN's folder): the library from stock lua5.4 (every module and
-- exporter required with LUA_PATH and LUA_CPATH pointing at the prefix
-- only, plus Lua's defaults for lua-filesystem and lua-cjson), and the
-- installed program running its installed commands.
local support = dofile("spec/fixtures/support.lua")

local quote = support.quote
local ROOT = support.capture("pwd"):gsub("\n$", "")
-- The build folder as spec/run names it (relative to the tree, so that
-- make finds the objects' dependency files and rebuilds nothing).
local BUILD = (os.getenv("SYNCLUA_BIN") or "build/synclua"):match("^(.*)/")
local BUILD_PATH = BUILD:sub(1, 1) == "/" and BUILD or (ROOT .. "/" .. BUILD)
local LUA = "/usr/bin/lua5.4"

-- The base names of the files in a tree folder matching a pattern.
local function names(dir, pattern)
  local out = {}
  for _, f in ipairs(support.lines(support.capture("ls " .. quote(dir)))) do
    out[#out + 1] = f:match(pattern)
  end
  table.sort(out)
  return out
end

-- The modules the tree provides, by the names `require` takes.
local function tree_modules()
  local mods = { "synclua.core" }
  for _, n in ipairs(names("lua/synclua", "^(.+)%.lua$")) do
    mods[#mods + 1] = n == "init" and "synclua" or ("synclua." .. n)
  end
  for _, n in ipairs(names("exporters", "^(.+)%.lua$")) do
    mods[#mods + 1] = "synclua.export." .. n
  end
  table.sort(mods)
  return mods
end

-- The modules installed under a prefix, from its files.
local function installed_modules(prefix)
  local mods = {}
  local function walk(dir, ext)
    local out = support.capture(("cd %s && find . -name '*.%s'")
                                :format(quote(dir), ext))
    for _, path in ipairs(support.lines(out)) do
      local m = path:gsub("^%./", ""):gsub("%." .. ext .. "$", "")
                    :gsub("/init$", ""):gsub("/", ".")
      mods[#mods + 1] = m
    end
  end
  walk(prefix .. "/share/lua/5.4", "lua")
  walk(prefix .. "/lib/lua/5.4", "so")
  table.sort(mods)
  return mods
end

-- What a stock lua5.4 needs to load a sanitized build's C module: the
-- sanitizer's runtime first (an empty string for a plain build).
local function sanitizer_env(module)
  local ldd = support.capture("ldd " .. quote(module))
  local asan = ldd:match("libasan[^\n]-=> (%S+)")
  if not asan then return "" end
  return "LD_PRELOAD=" .. quote(asan) .. " ASAN_OPTIONS=detect_leaks=0 "
end

describe("make install", function()
  local prefix, status, log

  setup(function()
    prefix = support.tmpdir()
    log, status = support.capture(("make -s -C %s install PREFIX=%s BUILD=%s "
      .. "2>&1"):format(quote(ROOT), quote(prefix), quote(BUILD)))
  end)

  teardown(function() support.rmdir(prefix) end)

  it("installs the build under test", function()
    assert(status, log)
    local _, same = support.capture(("cmp -s %s %s"):format(
      quote(support.EXE), quote(prefix .. "/bin/synclua")))
    assert.is_true(same)
  end)

  it("installs every module and exporter where stock Lua looks", function()
    assert.same(tree_modules(), installed_modules(prefix))
  end)

  describe("the C library", function()
    -- A program that logs through the engine's header alone and reads
    -- back what it logged: it links when the library does.
    local APP = [[
#include <stdio.h>
#include <synclua/synclua.h>

int main(int argc, char **argv) {
  sl_store *log;
  sl_open_opts opts = { .mode = SL_OPEN_WRITE,
                        .device_id = "8b2f0c1e-5d4a-4e7b-9c3f-1a2b3c4d5e6f" };
  sl_event ev = { .event_type = "state_transition",
                  .summary = "Ready -> Paused",
                  .timestamp = "2025-12-03T10:15:00Z" };
  int64_t n = -1;
  sl_filter f;
  if (argc != 2 || sl_store_open(argv[1], &opts, &log) != SL_OK) return 1;
  if (sl_store_append(log, &ev) != SL_OK || sl_store_flush(log) != SL_OK)
    return 2;
  sl_filter_init(&f);
  if (sl_count(log, &f, &n) != SL_OK) return 3;
  printf("%s %lld\n", SL_VERSION, (long long)n);
  sl_store_close(log);
  sl_store_release(log);
  return 0;
}
]]
    local dir, env, cc
    setup(function()
      dir = support.tmpdir()
      support.spit(dir .. "/app.c", APP)
      env = "export PKG_CONFIG_PATH=" .. quote(prefix .. "/lib/pkgconfig")
        .. " && "
      -- A sanitized build's library links only with its runtime.
      local ldd = support.capture("ldd " .. quote(support.EXE))
      local san = {}
      if ldd:match("libasan") then san[#san + 1] = "address" end
      if ldd:match("libubsan") then san[#san + 1] = "undefined" end
      cc = #san > 0 and ("cc -fsanitize=" .. table.concat(san, ",")) or "cc"
    end)
    teardown(function() support.rmdir(dir) end)

    -- Build app.c with the link flags given (a shell fragment), run it on a
    -- new store: its output, and ldd's line for libsynclua ("" if none).
    local function build_and_run(name, flags)
      local log, ok = support.capture(("cd %s && %s%s -o %s app.c %s 2>&1")
        :format(quote(dir), env, cc, name, flags))
      assert(ok, log)
      local out = support.capture(("cd %s && ASAN_OPTIONS=detect_leaks=0 "
        .. "./%s %s 2>&1"):format(quote(dir), name, quote(name .. ".db")))
      local ldd = support.capture(("cd %s && ldd ./%s 2>&1"):format(
        quote(dir), name))
      return out, ldd:match("[^\n]*libsynclua[^\n]*") or ""
    end

    it("installs the shared library with its soname, the static one and "
       .. "the headers under include/synclua", function()
      local version = support.capture(quote(support.EXE) .. " -v 2>&1")
                             :match("(%d+%.%d+%.%d+)")
      local major = version:match("^(%d+)")
      assert.equal("libsynclua.so." .. major, support.capture("readlink "
        .. quote(prefix .. "/lib/libsynclua.so")):gsub("\n$", ""))
      assert.equal("libsynclua.so." .. version, support.capture("readlink "
        .. quote(prefix .. "/lib/libsynclua.so." .. major)):gsub("\n$", ""))
      assert.truthy(support.capture("readelf -d " .. quote(prefix
        .. "/lib/libsynclua.so." .. version)):find("Library soname: "
        .. "[libsynclua.so." .. major .. "]", 1, true))
      assert.same({ "json.h", "net.h", "redact.h", "synclua.h" },
                  names(prefix .. "/include/synclua", "^(.+%.h)$"))
      assert.same({ "synclua" }, names(prefix .. "/include", "^(.+)$"))
      assert.truthy(support.slurp(prefix .. "/lib/libsynclua.a"))
      -- Only the public sl_* functions are exported.
      local names_out = support.capture("nm -D --defined-only "
        .. quote(prefix .. "/lib/libsynclua.so." .. version))
      local other = {}
      for sym in names_out:gmatch("%x+ %a ([%w_]+)") do
        if not sym:match("^sl_") then other[#other + 1] = sym end
      end
      assert.same({}, other)
    end)

    it("links a program dynamically with pkg-config --libs", function()
      local out, ldd = build_and_run("dynamic",
        "$(pkg-config --cflags --libs synclua)")
      assert.matches("^%d+%.%d+%.%d+ 1\n$", out)
      assert.truthy(ldd:find(prefix .. "/lib/libsynclua.so.", 1, true), ldd)
    end)

    it("links libsynclua into a program with pkg-config --static", function()
      local out, ldd = build_and_run("static", "$(pkg-config --cflags synclua)"
        .. " $(pkg-config --static --libs synclua | sed "
        .. "'s/-lsynclua/-l:libsynclua.a/')")
      assert.matches("^%d+%.%d+%.%d+ 1\n$", out)
      assert.equal("", ldd)
      if cc == "cc" then   -- (a sanitizer's runtime cannot link -static)
        out, ldd = build_and_run("all_static", "-static "
          .. "$(pkg-config --cflags --static --libs synclua)")
        assert.matches("^%d+%.%d+%.%d+ 1\n$", out)
        assert.equal("", ldd)
      end
    end)
  end)

  it("installs the man page and the bash completion", function()
    assert.equal(support.slurp(BUILD_PATH .. "/synclua.1"),
                 support.slurp(prefix .. "/share/man/man1/synclua.1"))
    assert.equal(support.slurp(BUILD_PATH .. "/synclua.bash"),
                 support.slurp(
      prefix .. "/share/bash-completion/completions/synclua"))
  end)

  it("lets stock lua5.4 require every module and exporter from the prefix",
     function()
    local mods = installed_modules(prefix)
    assert.truthy(#mods > 0)
    local quoted = {}
    for i, m in ipairs(mods) do quoted[i] = ("%q"):format(m) end
    local code = ([[
local prefix = %q
for _, m in ipairs{ %s } do
  local where = package.searchpath(m, package.path)
                or package.searchpath(m, package.cpath)
  assert(where and where:sub(1, #prefix + 1) == prefix .. "/",
         m .. " found at " .. tostring(where))
  require(m)
end
print("ok")
]]):format(prefix, table.concat(quoted, ", "))
    local lua_path = ("%s/share/lua/5.4/?.lua;%s/share/lua/5.4/?/init.lua;;")
                     :format(prefix, prefix)
    local lua_cpath = ("%s/lib/lua/5.4/?.so;;"):format(prefix)
    local out = support.capture(("cd %s && env -u LUA_INIT -u LUA_INIT_5_4 "
      .. "-u LUA_PATH_5_4 -u LUA_CPATH_5_4 LUA_PATH=%s LUA_CPATH=%s %s%s "
      .. "-e %s 2>&1"):format(quote(prefix), quote(lua_path),
        quote(lua_cpath),
        sanitizer_env(prefix .. "/lib/lua/5.4/synclua/core.so"), LUA,
        quote(code)))
    assert.equal("ok\n", out)
  end)

  it("runs a report from stock lua5.4, on the frame, with no host",
     function()
    local dir = support.tmpdir()
    local _, made = support.capture(("cd %s && %s simulate --out lib "
      .. "--devices 2 --hours 6 --seed 3 >/dev/null 2>&1"):format(quote(dir),
      quote(prefix .. "/bin/synclua")))
    assert.is_true(made)
    local code = [[
local runner = require "synclua.runner"
local decl = dofile(arg[1])
os.exit(runner.run(decl, { "--db", "lib", "-f", "json" }, "lost_data"))
]]
    local lua_path = ("%s/share/lua/5.4/?.lua;%s/share/lua/5.4/?/init.lua;;")
                     :format(prefix, prefix)
    local lua_cpath = ("%s/lib/lua/5.4/?.so;;"):format(prefix)
    support.spit(dir .. "/run.lua", code)
    local out, ok = support.capture(("cd %s && env -u LUA_INIT -u LUA_INIT_5_4 "
      .. "-u LUA_PATH_5_4 -u LUA_CPATH_5_4 SYNCLUA_NOW=2025-12-04T00:00:00Z "
      .. "LUA_PATH=%s LUA_CPATH=%s %s%s run.lua %s 2>&1"):format(quote(dir),
        quote(lua_path), quote(lua_cpath),
        sanitizer_env(prefix .. "/lib/lua/5.4/synclua/core.so"), LUA,
        quote(prefix .. "/share/synclua/scripts/lost_data.lua")))
    local want = support.capture(("cd %s && SYNCLUA_NOW=2025-12-04T00:00:00Z "
      .. "%s lost_data --db lib -f json 2>&1"):format(quote(dir),
      quote(prefix .. "/bin/synclua")))
    support.rmdir(dir)
    assert.is_false(ok)               -- exit 1: the library lost data
    assert.equal(want, out)
    assert.matches('^{"exit":1,', out)
  end)

  describe("the installed synclua", function()
    local dir
    before_each(function() dir = support.tmpdir() end)
    after_each(function() support.rmdir(dir) end)

    -- Runs the installed program in `dir`, outside the source tree.
    local function installed(args)
      local out, err = dir .. "/.stdout", dir .. "/.stderr"
      local ok, _, code = os.execute(("cd %s && env -u SYNCLUA_HOME "
        .. "-u SYNCLUA_DB %s %s </dev/null >%s 2>%s"):format(quote(dir),
        quote(prefix .. "/bin/synclua"), args, quote(out), quote(err)))
      local o, e = support.slurp(out), support.slurp(err)
      os.remove(out)
      os.remove(err)
      return o, e, ok and 0 or code
    end

    it("lists the installed commands", function()
      local out, err, code = installed("--list")
      assert.equal("", err)
      assert.equal(0, code)
      local listed = {}
      for _, line in ipairs(support.lines(out)) do
        listed[#listed + 1] = line:match("^(%S+)")
      end
      assert.same(names("scripts", "^(.+)%.lua$"), listed)
    end)

    it("exports a store as ndjson", function()
      local db = dir .. "/sync.db"
      assert.equal("", support.sqlite(db, support.DDL))
      support.insert_rows(db, {
        { timestamp = "2025-12-03T10:00:00+00:00", summary =
          "Uninitialized → Backfilling", details = '{"reason":"new device"}' },
        { timestamp = "2025-12-03T10:05:00.5+00:00", event_type =
          "peer_connected", category = "network", summary = "Peer connected",
          peer_device_id = "c3d4e5f6-a7b8-4c9d-8e0f-1a2b3c4d5e6f" },
      })
      local out, err, code = installed("events --db " .. quote(db)
                                       .. " -f ndjson")
      assert.equal("", err)
      assert.equal(0, code)
      assert.equal('{"correlation_id":null,"details":null,"duration_ms":null,'
        .. '"event_type":"peer_connected","peer_device_id":'
        .. '"c3d4e5f6-a7b8-4c9d-8e0f-1a2b3c4d5e6f","record_count":null,'
        .. '"severity":"info","summary":"Peer connected","timestamp":'
        .. '"2025-12-03T10:05:00.500Z"}\n'
        .. '{"correlation_id":null,"details":{"reason":"new device"},'
        .. '"duration_ms":null,"event_type":"state_transition",'
        .. '"peer_device_id":null,"record_count":null,"severity":"info",'
        .. '"summary":"Uninitialized → Backfilling","timestamp":'
        .. '"2025-12-03T10:00:00Z"}\n', out)
    end)
  end)
end)
