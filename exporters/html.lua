--- synclua.export.html: a view (synclua.view) as one self-contained HTML
-- page: its style, its script and its data inline, nothing fetched (no
-- network, fonts, scripts or CDNs), so that it can be attached to a bug
-- report and opened anywhere.
--
-- The page draws on a <canvas> (so 100k events stay interactive): a
-- swimlane per device on the clock-corrected time axis, its offset stated;
-- the sessions as Gantt bars with their batches inside (height by records,
-- colour by records/s) and their gaps hatched; each event a tick coloured
-- by severity (warnings and errors taller); the causal links (request sent
-- -> received -> response sent -> batch applied) drawn across devices; the
-- verdict and findings of a report on top, each piece of evidence a link
-- to its event. Zoom (wheel, buttons, a session double-clicked) and pan
-- (drag); hover an event for
-- its summary, click an event, session or batch for everything about it;
-- filters by device, type and severity, and a search box (Enter shows the
-- first match).
--
-- Data goes in <script type="application/json"> elements as JSON with
-- every "<" written \u003c, so that no text in the data (a summary holding
-- "</script>") can end the element: it stays text. The events are written
-- as the view merges them (streamed), one JSON array per event, then the
-- model (devices, sessions, links, verdict) once the stream has counted
-- them.
local synclua = require "synclua"

local M = {}

local encode = synclua.json_encode
local null = synclua.null

-- JSON that can sit inside a <script> element: no "<" at all.
local function safe(value)
  return (encode(value):gsub("<", "\\u003c"))
end
M.safe = safe

-- Text for HTML content and attributes.
local function escape(s)
  return (tostring(s):gsub("[&<>\"']", { ["&"] = "&amp;", ["<"] = "&lt;",
    [">"] = "&gt;", ['"'] = "&quot;", ["'"] = "&#39;" }))
end
M.escape = escape

-- ns from the origin as milliseconds.
local function ms(ns, origin)
  return (ns - origin) / 1e6
end

local SEVERITIES = { debug = 0, info = 1, warning = 2, error = 3 }

local STYLE = [==[
*{box-sizing:border-box}
body{margin:0;font:13px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d2330;background:#f6f7f9}
header{padding:10px 16px;background:#fff;border-bottom:1px solid #d9dde3}
h1{font-size:16px;margin:0 0 4px}
.sub{color:#5b6475;font-size:12px}
#verdict{margin:8px 0 0;padding:8px 10px;border-radius:6px;background:#eef6ee;border:1px solid #b9dcb9}
#verdict.finding{background:#fdf0ef;border-color:#e8b4af}
#verdict .v{font-weight:600}
#verdict ul{margin:4px 0 0;padding-left:18px}
#verdict li{margin:2px 0}
.sev{display:inline-block;min-width:56px;font-weight:600;text-transform:lowercase}
.sev-error{color:#c62828}.sev-warning{color:#b26a00}.sev-info{color:#1565c0}.sev-debug{color:#6b7280}
a.ev{color:#1550a0;cursor:pointer;text-decoration:underline;margin-right:8px;font-size:12px}
#bar{display:flex;flex-wrap:wrap;gap:10px;align-items:center;padding:6px 16px;background:#fff;border-bottom:1px solid #d9dde3;font-size:12px}
#bar fieldset{border:1px solid #d9dde3;border-radius:4px;padding:2px 6px;margin:0}
#bar legend{font-size:11px;color:#5b6475;padding:0 3px}
#bar label{margin-right:6px;white-space:nowrap}
#types{position:relative}#types span{position:absolute;z-index:3;background:#fff;border:1px solid #d9dde3;padding:6px;width:560px;display:flex;flex-wrap:wrap;gap:2px 0}#types summary{cursor:pointer}
#search{width:220px;padding:3px 6px}
button{font:inherit;padding:2px 8px}
#main{display:flex;align-items:stretch}
#wrap{position:relative;flex:1;min-width:0}
canvas{display:block;cursor:crosshair}
#tip{position:absolute;pointer-events:none;background:#1d2330;color:#fff;padding:4px 6px;border-radius:4px;font-size:12px;max-width:480px;display:none;white-space:pre-wrap;z-index:2}
#side{width:380px;border-left:1px solid #d9dde3;background:#fff;padding:8px 10px;overflow:auto;max-height:calc(100vh - 120px)}
#details h2{font-size:14px;margin:0 0 6px}
#details dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 8px;margin:0}
#details dt{color:#5b6475}
#details dd{margin:0;word-break:break-all}
#details pre{background:#f3f4f6;padding:6px;overflow:auto;font-size:12px;white-space:pre-wrap;word-break:break-all}
#lanes{list-style:none;padding:0;margin:8px 0 0;font-size:12px;color:#5b6475}
#legend{font-size:12px;color:#5b6475;margin-top:10px}
#legend span.sw{display:inline-block;width:12px;height:10px;margin:0 3px 0 8px;vertical-align:middle}
]==]

local BODY = [==[
<div id="bar">
<fieldset><legend>devices</legend><span id="devs"></span></fieldset>
<fieldset><legend>severity</legend><span id="sevs"></span></fieldset>
<details id="types"><summary>event types</summary><span id="typs"></span></details>
<input id="search" type="search" placeholder="search (Enter: first match)" aria-label="search">
<span id="found"></span>
<button id="zin" title="zoom in">+</button><button id="zout" title="zoom out">&minus;</button><button id="fit">fit</button>
<span class="sub">wheel: zoom, drag: pan, click: details, double-click a session: zoom to it</span>
</div>
<div id="main"><div id="wrap"><canvas id="cv"></canvas><div id="tip"></div></div>
<div id="side"><div id="details"><h2>Details</h2><p class="sub">Click an event, a session or a batch.</p></div>
<ul id="lanes"></ul>
<div id="legend">
<div>events: <span class="sw" style="background:#9aa3b2"></span>debug<span class="sw" style="background:#1565c0"></span>info<span class="sw" style="background:#f59e0b"></span>warning<span class="sw" style="background:#d32f2f"></span>error</div>
<div>batches: height by records, colour by records/s <span class="sw" style="background:hsl(0,70%,50%)"></span>slowest<span class="sw" style="background:hsl(120,55%,42%)"></span>fastest; hatched: a gap without records (&ge; 30 s)</div>
<div>lines: request sent &rarr; received &rarr; response sent &rarr; batch applied</div>
</div></div></div>
]==]

local SCRIPT = [==[
(function(){
"use strict";
const $=id=>document.getElementById(id);
const M=JSON.parse($("synclua-model").textContent);
const RAW=JSON.parse($("synclua-events").textContent);
const SEV=["debug","info","warning","error"];
const SEVC=["#9aa3b2","#1565c0","#f59e0b","#d32f2f"];
const nd=M.devices.length;
// Per device: parallel arrays of the event rows, oldest first.
const D=M.devices.map(d=>({d:d,t:[],r:[],byId:new Map(),on:true,rendered:0,y:0,h:0,ev:0,rows:[]}));
for(const r of RAW){const L=D[r[1]-1];L.byId.set(r[4],L.t.length);L.t.push(r[0]);L.r.push(r)}
const typeOn=M.types.map(()=>true), sevOn=[true,true,true,true];
let query="", match=null;
function passes(r){return typeOn[r[2]]&&sevOn[r[3]]&&(!match||match.has(r))}
// Sessions per device, in lanes per kind that never overlap.
for(const s of M.sessions){D[s.device-1].rows.push(s)}
for(const L of D){const lanes={};L.lanes=[];L.rows.sort((a,b)=>a.start-b.start);
 for(const s of L.rows){const k=s.kind;lanes[k]=lanes[k]||[];let l=lanes[k].findIndex(e=>e<=s.start);
  if(l<0){l=lanes[k].length;lanes[k].push(s.stop)}else lanes[k][l]=s.stop;
  s.lane=k+":"+l;if(!L.lanes.includes(s.lane))L.lanes.push(s.lane)}
 L.lanes.sort()}
// Records/s scale over every batch (log).
let rmin=Infinity,rmax=0;for(const s of M.sessions)for(const b of s.batches)if(b.rate>0){rmin=Math.min(rmin,b.rate);rmax=Math.max(rmax,b.rate)}
function rateColour(r){if(!(r>0)||!(rmax>rmin))return"hsl(200,40%,55%)";const f=(Math.log(r)-Math.log(rmin))/(Math.log(rmax)-Math.log(rmin));return"hsl("+Math.round(f*120)+","+(70-15*f)+"%,"+(50-8*f)+"%)"}
// Time range.
let tmin=0,tmax=1;
for(const L of D){if(L.t.length){tmax=Math.max(tmax,L.t[L.t.length-1])}}
for(const s of M.sessions){tmax=Math.max(tmax,s.stop);for(const b of s.batches)tmax=Math.max(tmax,b.stop)}
const span0=Math.max(tmax-tmin,1);
const cv=$("cv"),ctx=cv.getContext("2d"),tip=$("tip");
const GUT=150,AX=26,HEAD=18,SROW=22,EROW=28,PAD=10;
let v0=tmin-span0*0.01,v1=tmax+span0*0.01,W=800,H=400,hits=[];
function lower(a,x){let lo=0,hi=a.length;while(lo<hi){const m=(lo+hi)>>1;if(a[m]<x)lo=m+1;else hi=m}return lo}
function X(t){return GUT+(t-v0)*(W-GUT-8)/(v1-v0)}
function T(x){return v0+(x-GUT)*(v1-v0)/(W-GUT-8)}
function clock(t){const d=new Date(M.origin_ms+(M.origin_frac+t));return d.toISOString().replace("T"," ").slice(0,23)}
function layout(){let y=AX;for(const L of D){L.y=y;if(!L.on){L.h=0;continue}L.h=HEAD+L.lanes.length*SROW+EROW+PAD;y+=L.h}
 return y+8}
function niceStep(span,px){const raw=span/Math.max(px/110,1);const p=Math.pow(10,Math.floor(Math.log10(raw)));for(const m of[1,2,5,10])if(m*p>=raw)return m*p;return 10*p}
function draw(){
 const dpr=window.devicePixelRatio||1;W=$("wrap").clientWidth||800;H=layout();
 cv.width=W*dpr;cv.height=H*dpr;cv.style.width=W+"px";cv.style.height=H+"px";
 ctx.setTransform(dpr,0,0,dpr,0,0);ctx.clearRect(0,0,W,H);ctx.font="12px system-ui,sans-serif";hits=[];
 // axis
 const step=niceStep(v1-v0,W-GUT);ctx.fillStyle="#5b6475";ctx.strokeStyle="#e3e6ea";ctx.lineWidth=1;
 for(let t=Math.ceil(v0/step)*step;t<=v1;t+=step){const x=X(t);ctx.beginPath();ctx.moveTo(x,AX-4);ctx.lineTo(x,H);ctx.stroke();
  ctx.fillText(step<1000?clock(t).slice(11):clock(t).slice(5,19),x+2,12)}
 ctx.fillText("UTC, clock-corrected",4,12);
 const sevAt=new Int8Array(W+2);
 for(const L of D){L.rendered=0;if(!L.on)continue;const d=L.d,y=L.y;
  ctx.fillStyle="#1d2330";ctx.font="600 12px system-ui,sans-serif";ctx.fillText(d.label,4,y+13);
  ctx.font="11px system-ui,sans-serif";ctx.fillStyle="#5b6475";ctx.fillText(d.offset_text,4,y+26);
  ctx.strokeStyle="#d9dde3";ctx.beginPath();ctx.moveTo(0,y+L.h-0.5);ctx.lineTo(W,y+L.h-0.5);ctx.stroke();
  // sessions
  ctx.save();ctx.beginPath();ctx.rect(GUT,y,W-GUT,L.h);ctx.clip();
  for(const s of L.rows){const ly=y+HEAD+L.lanes.indexOf(s.lane)*SROW,x0=X(s.start),x1=Math.max(X(s.stop),x0+2);
   if(x1<GUT||x0>W)continue;
   ctx.fillStyle=s.status==="completed"?"#e6eefb":s.status==="running"?"#eef0f3":"#fbe3e1";ctx.fillRect(x0,ly,x1-x0,SROW-4);
   ctx.strokeStyle=s.status==="completed"?"#7ea3d9":"#d32f2f";ctx.strokeRect(x0+0.5,ly+0.5,x1-x0-1,SROW-5);
   let bmax=1;for(const b of s.batches)bmax=Math.max(bmax,b.records);
   for(const b of s.batches){const bx0=X(b.start),bx1=Math.max(X(b.stop),bx0+1),bh=Math.max(2,(SROW-10)*b.records/bmax);
    ctx.fillStyle=rateColour(b.rate);ctx.fillRect(bx0,ly+SROW-5-bh,bx1-bx0,bh);hits.push({x:bx0,y:ly+SROW-5-bh,w:bx1-bx0,h:bh,batch:b,session:s,z:2})}
   ctx.strokeStyle="#d32f2f";for(const g of s.gaps){const gx0=X(g.from),gx1=X(g.to);ctx.save();ctx.beginPath();ctx.rect(gx0,ly,gx1-gx0,SROW-4);ctx.clip();
    for(let hx=gx0-SROW;hx<gx1;hx+=6){ctx.beginPath();ctx.moveTo(hx,ly+SROW-4);ctx.lineTo(hx+SROW,ly);ctx.stroke()}ctx.restore()}
   if(x1-x0>60){ctx.fillStyle="#1d2330";ctx.fillText((s.kind==="catch_up"?"catch-up ":"backfill ")+s.id.slice(0,8)+" "+s.status,Math.max(x0,GUT)+3,ly+12)}
   hits.push({x:x0,y:ly,w:x1-x0,h:SROW-4,session:s,z:1})}
  // events
  const ey=y+HEAD+L.lanes.length*SROW;sevAt.fill(-1);
  const a=lower(L.t,v0),b=lower(L.t,v1+1e-9);const sel=[];
  for(let i=a;i<b;i++){const r=L.r[i];if(!passes(r))continue;L.rendered++;const x=X(r[0])|0;if(r[3]>sevAt[x])sevAt[x]=r[3];if(match)sel.push(x)}
  for(let x=0;x<sevAt.length;x++){const s=sevAt[x];if(s<0)continue;ctx.fillStyle=SEVC[s];const hh=s>=2?EROW-6:s===1?14:9;ctx.fillRect(x,ey+EROW-4-hh,1,hh);
   if(s>=2){ctx.beginPath();ctx.moveTo(x-4,ey+1);ctx.lineTo(x+4,ey+1);ctx.lineTo(x,ey+7);ctx.fill()}}
  if(match){ctx.fillStyle="rgba(250,204,21,.55)";for(const x of sel)ctx.fillRect(x-1,ey,3,EROW-4)}
  L.ev=ey;ctx.restore()}
 // links
 ctx.save();ctx.beginPath();ctx.rect(GUT,AX,W-GUT,H-AX);ctx.clip();ctx.lineWidth=1;
 // many links at once fade, so that the lanes stay legible
 let inView=0;for(const k of M.links){const a=k.steps[0].at,z=k.steps[k.steps.length-1].at;if(z>=v0&&a<=v1)inView++}
 const alpha=inView>100?0.12:0.35;
 for(const k of M.links){let prev=null;const hot=selected&&k.steps.some(p=>p.device===selected.d&&p.id===selected.id);
  ctx.strokeStyle=hot?"rgba(211,47,47,.9)":"rgba(70,90,140,"+alpha+")";ctx.lineWidth=hot?2:1;
  for(const p of k.steps){const L=D[p.device-1];if(!L.on){prev=null;continue}const x=X(p.at),y=L.ev+EROW/2;
   if(prev&&((x>=GUT&&x<=W)||(prev[0]>=GUT&&prev[0]<=W))){ctx.beginPath();ctx.moveTo(prev[0],prev[1]);const my=(prev[1]+y)/2;ctx.bezierCurveTo(prev[0],my,x,my,x,y);ctx.stroke()}
   prev=[x,y]}}
 ctx.restore();
 if(selected){const L=D[selected.d-1];if(L.on){const x=X(L.t[selected.i]);ctx.strokeStyle="#111";ctx.lineWidth=1.5;ctx.strokeRect(x-3,L.ev+1,6,EROW-6)}}
 const list=$("lanes");list.textContent="";
 for(const L of D){const li=document.createElement("li");li.dataset.device=L.d.label;li.dataset.rendered=L.on?L.rendered:0;li.dataset.events=L.t.length;
  li.textContent=L.d.label+": "+(L.on?L.rendered:0)+" of "+L.t.length+" events shown";list.appendChild(li)}
}
let selected=null;
function dl(pairs){const d=document.createElement("dl");for(const[k,v]of pairs){if(v===null||v===undefined)continue;const dt=document.createElement("dt");dt.textContent=k;const dd=document.createElement("dd");dd.textContent=String(v);d.append(dt,dd)}return d}
function show(title,pairs,extra){const box=$("details");box.textContent="";const h=document.createElement("h2");h.textContent=title;box.append(h,dl(pairs));
 if(extra!==undefined){const pre=document.createElement("pre");pre.textContent=typeof extra==="string"?extra:JSON.stringify(extra,null,2);box.append(pre)}}
function fmtRate(r){return r>0?Math.round(r).toLocaleString("en")+" records/s":null}
function showEvent(d,i){const L=D[d-1],r=L.r[i];selected={d:d,i:i,id:r[4]};
 show(M.types[r[2]]+" #"+r[4],[["device",L.d.label],["severity",SEV[r[3]]],["summary",r[5]],["time (corrected)",clock(r[0])],["device clock",r[6]],["correlation id",r[7]],["peer",r[8]],["records",r[9]],["duration ms",r[10]]],r[11]);draw()}
function showSession(s){selected=null;const L=D[s.device-1];
 show((s.kind==="catch_up"?"catch-up":"backfill")+" session "+s.id,[["device",L.d.label],["peer",s.peer_label],["status",s.status],["start",clock(s.start)],["end",clock(s.stop)],["duration",((s.stop-s.start)/1000).toFixed(3)+" s"],["records",s.records],["records/s",fmtRate(s.rate)],["batches",s.batches.length],["gaps",s.gaps.length]]);draw()}
function showBatch(b,s){show("batch #"+b.id,[["session",s.id],["records",b.records],["records/s",fmtRate(b.rate)],["start",clock(b.start)],["end",clock(b.stop)],["attributed by peer and time",b.attributed?"yes":null]])}
function focus(d,id){const L=D[d-1],i=L.byId.get(id);if(i===undefined)return;const t=L.t[i],w=Math.max((v1-v0)/20,50);v0=t-w/2;v1=t+w/2;L.on=true;syncChecks();showEvent(d,i)}
window.synclua={focus:focus,model:M,rendered:()=>D.map(L=>L.rendered),
 sessionBox:id=>{const h=hits.find(h=>h.session&&!h.batch&&h.session.id===id);return h&&{x:h.x,y:h.y,w:h.w,h:h.h}},
 eventX:(d,id)=>{const L=D[d-1];return X(L.t[L.byId.get(id)])},fit:()=>{v0=tmin-span0*0.01;v1=tmax+span0*0.01;draw()}};
function near(mx,my){for(const L of D){if(!L.on)continue;if(my>=L.ev&&my<=L.ev+EROW){const a=lower(L.t,T(mx-4)),b=lower(L.t,T(mx+4));let best=-1,bd=9;
  for(let i=a;i<b;i++){if(!passes(L.r[i]))continue;const dx=Math.abs(X(L.t[i])-mx);if(dx<bd||(dx===bd&&L.r[i][3]>L.r[best][3])){bd=dx;best=i}}
  return best>=0?{d:L.d.index,i:best}:null}}return null}
function hitAt(mx,my){let h=null;for(const e of hits)if(mx>=e.x&&mx<=e.x+e.w&&my>=e.y&&my<=e.y+e.h&&(!h||e.z>h.z))h=e;return h}
let drag=null,moved=false;
cv.addEventListener("mousedown",e=>{drag={x:e.offsetX,v0:v0,v1:v1};moved=false});
window.addEventListener("mouseup",()=>{drag=null});
cv.addEventListener("mousemove",e=>{const mx=e.offsetX,my=e.offsetY;
 if(drag){const dt=(mx-drag.x)*(drag.v1-drag.v0)/(W-GUT-8);if(Math.abs(mx-drag.x)>2)moved=true;v0=drag.v0-dt;v1=drag.v1-dt;draw();return}
 const n=near(mx,my);let text=null;
 if(n){const r=D[n.d-1].r[n.i];text=clock(r[0])+"  "+D[n.d-1].d.label+"  "+SEV[r[3]]+"  "+M.types[r[2]]+"\n"+r[5]}
 else{const h=hitAt(mx,my);if(h&&h.batch)text="batch: "+h.batch.records+" records"+(h.batch.rate>0?", "+Math.round(h.batch.rate)+" records/s":"");else if(h)text=h.session.kind+" "+h.session.id.slice(0,8)+" "+h.session.status+(h.session.peer_label?" from "+h.session.peer_label:"")}
 if(text){tip.textContent=text;tip.style.display="block";tip.style.left=Math.min(mx+12,W-300)+"px";tip.style.top=(my+14)+"px"}else tip.style.display="none"});
cv.addEventListener("mouseleave",()=>{tip.style.display="none"});
cv.addEventListener("click",e=>{if(moved)return;const mx=e.offsetX,my=e.offsetY,n=near(mx,my);if(n)return showEvent(n.d,n.i);
 const h=hitAt(mx,my);if(h&&h.batch)return showBatch(h.batch,h.session);if(h)return showSession(h.session)});
cv.addEventListener("dblclick",e=>{const h=hitAt(e.offsetX,e.offsetY);if(!h)return;const s=h.session,m=Math.max((s.stop-s.start)*0.1,1);v0=s.start-m;v1=s.stop+m;showSession(s)});
cv.addEventListener("wheel",e=>{e.preventDefault();const t=T(e.offsetX),f=e.deltaY>0?1.25:0.8;v0=t-(t-v0)*f;v1=t+(v1-t)*f;draw()},{passive:false});
function zoom(f){const c=(v0+v1)/2;v0=c-(c-v0)*f;v1=c+(v1-c)*f;draw()}
$("zin").onclick=()=>zoom(0.5);$("zout").onclick=()=>zoom(2);$("fit").onclick=()=>window.synclua.fit();
// filters
function box(parent,text,on,fn){const l=document.createElement("label");const c=document.createElement("input");c.type="checkbox";c.checked=on;c.onchange=()=>{fn(c.checked);draw()};l.append(c," "+text);parent.append(l);return c}
const devChecks=D.map(L=>box($("devs"),L.d.label,true,v=>{L.on=v}));
function syncChecks(){D.forEach((L,i)=>{devChecks[i].checked=L.on})}
SEV.forEach((s,i)=>box($("sevs"),s,true,v=>{sevOn[i]=v}));
M.types.forEach((t,i)=>box($("typs"),t,true,v=>{typeOn[i]=v}));
function search(q){query=q.toLowerCase();if(!query){match=null;$("found").textContent="";return}match=new Set();
 for(const L of D)for(const r of L.r){if((M.types[r[2]]+" "+r[5]+" "+(r[7]||"")+" "+(r[8]||"")+" "+JSON.stringify(r[11])).toLowerCase().includes(query))match.add(r)}
 $("found").textContent=match.size+" found"}
$("search").addEventListener("input",e=>{search(e.target.value);draw()});
$("search").addEventListener("keydown",e=>{if(e.key!=="Enter"||!match)return;let best=null;
 for(const L of D){if(!L.on)continue;for(let i=0;i<L.r.length;i++){if(passes(L.r[i])){if(!best||L.t[i]<best.t)best={d:L.d.index,id:L.r[i][4],t:L.t[i]};break}}}
 if(best)focus(best.d,best.id)});
// verdict evidence
for(const a of document.querySelectorAll("a.ev"))a.addEventListener("click",e=>{e.preventDefault();focus(+a.dataset.device,+a.dataset.id)});
window.addEventListener("resize",draw);
draw();
window.synclua.firstRender=performance.now();
document.body.dataset.ready="1";
})();
]==]

-- The verdict block: the verdict, the scenarios' verdicts, the findings
-- with links to their evidence (data-device, data-id: the page focuses
-- the event).
local function verdict_html(out, model)
  local v = model.verdict
  if not v then return end
  out:write('<div id="verdict" class="', escape(v.status or ""), '">',
            '<div class="v">', escape(v.verdict), '</div>')
  local labels = {}
  for _, d in ipairs(model.devices) do labels[d.index] = d.label end
  if #v.scenarios > 0 then
    out:write("<ul>")
    for _, s in ipairs(v.scenarios) do
      out:write('<li><b>', escape(s.name), '</b> ', escape(s.verdict), '</li>')
    end
    out:write("</ul>")
  end
  if #v.findings > 0 then
    out:write('<ul class="findings">')
    for _, f in ipairs(v.findings) do
      out:write('<li><span class="sev sev-', escape(f.severity or "info"),
                '">', escape(f.severity or "info"), '</span> ',
                escape(f.summary or f.kind or ""))
      if #f.evidence > 0 then out:write("<br>") end
      for k, e in ipairs(f.evidence) do
        if k > 12 then
          out:write(('<span class="sub">and %d more</span>')
            :format(#f.evidence - 12))
          break
        end
        out:write('<a class="ev" href="#" data-device="', e.device,
                  '" data-id="', e.id, '">', escape(labels[e.device]), ' #',
                  e.id, e.event_type and (" " .. escape(e.event_type)) or "",
                  '</a>')
      end
      out:write("</li>")
    end
    out:write("</ul>")
  end
  out:write("</div>")
end

local function seconds(ns)
  local sign = ns < 0 and "-" or "+"
  return ("%s%.3f s"):format(sign, math.abs(ns) / 1e9)
end

--- Write a view (synclua.view) as one HTML page to `out`.
-- @tparam table out an object with :write
-- @tparam table model from synclua.view.build, not yet streamed
-- @treturn integer the events written
function M.write(out, model)
  local origin = model.origin
  out:write('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width,initial-scale=1">',
    '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; ',
    'style-src \'unsafe-inline\'; script-src \'unsafe-inline\'; img-src data:">',
    '<title>', escape(model.title), '</title><style>', STYLE,
    '</style></head><body><header><h1>', escape(model.title), '</h1>',
    '<div class="sub">', escape(table.concat(model.clock, "; ")), '</div>')
  verdict_html(out, model)
  out:write('</header>', BODY)
  -- The events, streamed: [t (ms from the origin), device, type, severity,
  -- id, summary, device timestamp, correlation id, peer, records,
  -- duration_ms, details].
  out:write('<script type="application/json" id="synclua-events">[')
  local types, type_index = {}, {}
  local first = true
  local count = model:stream(function(ev, i, adjusted)
    local ti = type_index[ev.event_type]
    if not ti then
      types[#types + 1] = ev.event_type
      ti = #types - 1
      type_index[ev.event_type] = ti
    end
    local row = synclua.array{
      ms(adjusted or origin, origin), i, ti, SEVERITIES[ev.severity] or 1,
      ev.id, ev.summary or "", ev.timestamp or "",
      ev.correlation_id or null, ev.peer_device_id or null,
      ev.record_count or null, ev.duration_ms or null,
      ev.details == nil and null or ev.details }
    out:write(first and "\n" or ",\n", safe(row))
    first = false
  end)
  out:write(']</script>\n')
  local devices = {}
  for i, d in ipairs(model.devices) do
    devices[i] = { index = d.index, label = d.label, id = d.id or null,
                   offset_ns = d.offset_ns, events = d.events,
                   offset_text = ("clock %s"):format(seconds(d.offset_ns)) }
  end
  local ss = {}
  for i, s in ipairs(model.sessions) do
    local bs, gs = {}, {}
    for k, b in ipairs(s.batches) do
      bs[k] = { id = b.id, start = ms(b.start, origin), stop = ms(b.stop, origin),
                records = b.records, rate = b.rate or null,
                attributed = b.attributed }
    end
    for k, g in ipairs(s.gaps) do
      gs[k] = { from = ms(g.from, origin), to = ms(g.to, origin) }
    end
    ss[i] = { id = s.id, kind = s.kind, device = s.device, status = s.status,
              peer = s.peer or null, peer_label = s.peer_label or null,
              start = ms(s.start, origin), stop = ms(s.stop, origin),
              records = s.records, rate = s.rate or null,
              batches = synclua.array(bs), gaps = synclua.array(gs) }
  end
  local links = {}
  for i, l in ipairs(model.links) do
    local steps = {}
    for k, p in ipairs(l.steps) do
      steps[k] = { device = p.device, id = p.id, at = ms(p.at, origin) }
    end
    links[i] = { correlation_id = l.correlation_id, n = l.n,
                 steps = synclua.array(steps) }
  end
  out:write('<script type="application/json" id="synclua-model">', safe{
    title = model.title, command = model.name or null,
    origin = synclua.format_time(origin), origin_ms = origin // 1000000,
    origin_frac = (origin % 1000000) / 1e6,
    clock = synclua.array(model.clock), devices = synclua.array(devices),
    types = synclua.array(types), sessions = synclua.array(ss),
    links = synclua.array(links), events = count,
  }, '</script>\n<script>', SCRIPT, '</script>\n</body></html>\n')
  return count
end

return M
