"""The audit report as one self-contained HTML file: no network, inline CSS and JavaScript, the
report's JSON embedded once. Summary counts first; filters by status, severity, rule and account
and a search box (their state lives in the URL fragment, e.g. `#severity=critical&rule=invariant`,
so a link or `chromium --dump-dom` shows the filtered view); findings are rendered a page at a time
(PAGE_SIZE rows), each with its path drawn as an inline SVG graph. `unknown` has its own colour and
count and is never shown as a pass. Script errors are recorded in `#errors` (the browser test
checks it stays empty)."""

from __future__ import annotations

import html
import json

from reasoner.audit.findings import AuditReport
from reasoner.audit.report_formats import to_json

PAGE_SIZE = 50

CSS = """
:root{--fail:#b42318;--unknown:#b54708;--pass:#067647;--supp:#475467;--bg:#fff;--fg:#101828;--mut:#667085;--line:#eaecf0}
*{box-sizing:border-box}body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:var(--fg);background:var(--bg)}
header{padding:16px 24px;border-bottom:1px solid var(--line)}h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:24px 0 8px}
main{padding:0 24px 40px}.meta{color:var(--mut);font-size:12px;word-break:break-all}
.cards{display:flex;gap:12px;flex-wrap:wrap;margin:16px 0}.card{border:1px solid var(--line);border-radius:8px;padding:10px 14px;min-width:120px;cursor:pointer;background:#fff}
.card b{display:block;font-size:24px}.card.fail b{color:var(--fail)}.card.unknown b{color:var(--unknown)}.card.pass b{color:var(--pass)}.card.suppressed b{color:var(--supp)}
.card.active{outline:2px solid #1570ef}
.filters{display:flex;gap:8px;flex-wrap:wrap;align-items:center;margin:8px 0 12px;position:sticky;top:0;background:#fff;padding:8px 0;z-index:2}
select,input,button{font:inherit;padding:4px 8px;border:1px solid #d0d5dd;border-radius:6px;background:#fff}button{cursor:pointer}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:6px 8px;border-bottom:1px solid var(--line);vertical-align:top}
th{font-size:12px;color:var(--mut);font-weight:600}tr.row{cursor:pointer}tr.row:hover{background:#f9fafb}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:600;color:#fff;white-space:nowrap}
.s-fail{background:var(--fail)}.s-unknown{background:var(--unknown)}.s-pass{background:var(--pass)}.s-suppressed{background:var(--supp)}
.sev{font-size:12px;font-weight:600;text-transform:uppercase}.sev-critical{color:#7a271a}.sev-high{color:var(--fail)}.sev-medium{color:var(--unknown)}.sev-low{color:#175cd3}.sev-info{color:var(--mut)}
.detail td{background:#fcfcfd}.detail pre,code{font:12px/1.4 ui-monospace,SFMono-Regular,Menlo,monospace;white-space:pre-wrap;word-break:break-all}
.detail dl{display:grid;grid-template-columns:160px 1fr;gap:4px 12px;margin:0}.detail dt{color:var(--mut)}.detail dd{margin:0}
.graph{overflow-x:auto;margin:6px 0}.pager{margin:10px 0;display:flex;gap:8px;align-items:center}
.stmt{font-size:12px;color:#344054}#errors{color:var(--fail)}.muted{color:var(--mut)}
.exp td:nth-child(2){white-space:nowrap}details summary{cursor:pointer}
"""  # noqa: E501

JS = r"""
(function(){
var errs=[];function recordError(m){errs.push(String(m));var e=document.getElementById('errors');if(e)e.textContent=errs.join('\n');}
window.addEventListener('error',function(ev){recordError('error: '+ev.message);});
var ce=console.error;console.error=function(){recordError('console.error: '+Array.prototype.join.call(arguments,' '));ce.apply(console,arguments);};
var D=JSON.parse(document.getElementById('report-data').textContent);var R=D.result;var F=R.findings;
var PAGE=%(page)d;var state={status:'',severity:'',rule:'',account:'',q:'',page:1,open:''};
function esc(s){return String(s==null?'':s).replace(/[&<>"']/g,function(c){return {'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;',"'":'&#39;'}[c];});}
function $(id){return document.getElementById(id);}
function readHash(){var h=location.hash.replace(/^#/,'');var p={};h.split('&').forEach(function(kv){if(!kv)return;var i=kv.indexOf('=');var k=decodeURIComponent(i<0?kv:kv.slice(0,i));var v=i<0?'':decodeURIComponent(kv.slice(i+1));p[k]=v;});
 ['status','severity','rule','account','q','open'].forEach(function(k){state[k]=p[k]||'';});state.page=parseInt(p.page||'1',10)||1;return p;}
function writeHash(){var p=[];['status','severity','rule','account','q','open'].forEach(function(k){if(state[k])p.push(k+'='+encodeURIComponent(state[k]));});if(state.page>1)p.push('page='+state.page);
 var h=p.join('&');if(location.hash.replace(/^#/,'')!==h){history.replaceState(null,'','#'+h);}}
function matches(f){if(f.status==='suppressed')return false;if(state.status&&f.status!==state.status)return false;if(state.severity&&f.severity.level!==state.severity)return false;
 if(state.rule&&f.rule.id!==state.rule)return false;if(state.account&&f.account!==state.account)return false;
 if(state.q){var t=(f.title+' '+f.subject+' '+(f.principal||'')+' '+(f.resource||'')+' '+f.id).toLowerCase();if(t.indexOf(state.q.toLowerCase())<0)return false;}return true;}
function shortName(a){a=String(a||'');var i=a.lastIndexOf('/');if(i>=0&&i<a.length-1)return a.slice(i+1);i=a.lastIndexOf(':');return i>=0?a.slice(i+1):a;}
function svgPath(f){var hops=f.path||[];if(!hops.length)return '';var nodes=[hops[0].principal];var edges=[];
 hops.forEach(function(h){var label=h.action+(h.called_via&&h.called_via.length?' via '+h.called_via.join(','):'');edges.push(label);nodes.push(h.resource||'?');});
 var W=190,G=150,H=70,w=nodes.length*W+(nodes.length-1)*G-G+G;var parts=['<svg class="path-graph" xmlns="http://www.w3.org/2000/svg" role="img" width="'+(nodes.length*(W+G)-G+20)+'" height="'+(H+40)+'" viewBox="0 0 '+(nodes.length*(W+G)-G+20)+' '+(H+40)+'"><defs><marker id="arr" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto"><path d="M0,0L10,5L0,10z" fill="#475467"/></marker></defs>'];
 nodes.forEach(function(n,i){var x=10+i*(W+G);parts.push('<g><title>'+esc(n)+'</title><rect x="'+x+'" y="20" width="'+W+'" height="'+(H-20)+'" rx="8" fill="'+(i===0?'#eff8ff':'#f9fafb')+'" stroke="#98a2b3"/><text x="'+(x+W/2)+'" y="'+(20+(H-20)/2+4)+'" text-anchor="middle" font-size="12" font-family="sans-serif">'+esc(shortName(n).slice(0,28))+'</text></g>');
  if(i<edges.length){var x1=x+W,x2=x+W+G;parts.push('<line x1="'+x1+'" y1="45" x2="'+(x2-2)+'" y2="45" stroke="#475467" stroke-width="1.5" marker-end="url(#arr)"/><text x="'+((x1+x2)/2)+'" y="36" text-anchor="middle" font-size="10" font-family="sans-serif" fill="#344054"><title>'+esc(edges[i])+'</title>'+esc(edges[i].slice(0,26))+'</text>');}});
 parts.push('</svg>');return '<div class="graph">'+parts.join('')+'</div>';}
function stmts(h){return (h.statements||[]).map(function(s){var loc=s.location?(' — '+esc(s.location.file)+(s.location.line?':'+s.location.line:'')+' '+esc(s.location.json_path)):'';
 return '<div class="stmt">'+esc(s.effect)+' by '+esc(s.layer)+' '+esc(s.policy)+' #'+s.index+(s.sid?' ('+esc(s.sid)+')':'')+loc+'</div>';}).join('');}
function detail(f){var d='<dl>';function row(k,v){if(v!==''&&v!=null)d+='<dt>'+k+'</dt><dd>'+v+'</dd>';}
 row('id','<code>'+esc(f.id)+'</code>');row('rule',esc(f.rule.title)+' <span class="muted">('+esc(f.rule.id)+')</span>');row('description',esc(f.rule.description));
 row('severity',esc(f.severity.level)+' ('+f.severity.score+'/10)');if(f.status==='unknown')row('why unknown','<b>'+esc(f.reason)+'</b> — not proved either way');
 if(f.scope)row('proved over',esc(f.scope));row('account',esc(f.account||'')+(f.organization_path.length?' <span class="muted">'+esc(f.organization_path.join(' / '))+'</span>':''));
 row('principal',f.principal?'<code>'+esc(f.principal)+'</code>':'');row('actions',(f.actions||[]).map(function(a){return '<code>'+esc(a.action)+'</code>'+(a.access_level?' <span class="muted">'+esc(a.access_level)+'</span>':'');}).join(', '));
 row('resource',f.resource?'<code>'+esc(f.resource)+'</code>':'');if(f.conditions&&Object.keys(f.conditions).length)row('conditions that must hold','<pre>'+esc(JSON.stringify(f.conditions,null,1))+'</pre>');
 if(f.path&&f.path.length){var p=svgPath(f)+'<ol>';f.path.forEach(function(h){p+='<li><code>'+esc(h.principal)+'</code> '+esc(h.kind)+' <code>'+esc(h.action)+'</code> on <code>'+esc(h.resource)+'</code>'+(h.called_via&&h.called_via.length?' via '+esc(h.called_via.join(', ')):'')+(h.note?' <span class="muted">'+esc(h.note)+'</span>':'')+stmts(h)+(h.decide_command?'<pre>'+esc(h.decide_command)+'</pre>':'')+'</li>';});row('path',p+'</ol>');}
 if(f.decide_command)row('reproduce','<pre>'+esc(f.decide_command)+'</pre>');if(f.location)row('written at','<code>'+esc(f.location.file)+(f.location.line?':'+f.location.line:'')+'</code> '+esc(f.location.json_path));
 if(f.remediation)row('remediation',esc(f.remediation));if(f.evidence==='usage-data')row('evidence','usage data from the export (not policy)');
 if(f.suppression)row('suppressed','<b>'+esc(f.suppression.reason)+'</b> — owner '+esc(f.suppression.owner)+(f.suppression.expires?', expires '+esc(f.suppression.expires):''));
 row('snapshot sha256','<code>'+esc(f.snapshot_sha256)+'</code>');return d+'</dl>';}
function rowHtml(f,open){return '<tr class="row" data-id="'+esc(f.id)+'" data-status="'+esc(f.status)+'" data-severity="'+esc(f.severity.level)+'" data-rule="'+esc(f.rule.id)+'"><td><span class="badge s-'+esc(f.status)+'">'+esc(f.status==='unknown'?'UNKNOWN':f.status.toUpperCase())+'</span></td><td class="sev sev-'+esc(f.severity.level)+'">'+esc(f.severity.level)+'</td><td>'+esc(f.rule.id)+'</td><td>'+esc(f.title)+'</td><td>'+esc(f.account||'')+'</td></tr>'+(open?'<tr class="detail"><td colspan="5">'+detail(f)+'</td></tr>':'');}
function render(){var shown=F.filter(matches);var pages=Math.max(1,Math.ceil(shown.length/PAGE));if(state.page>pages)state.page=pages;
 var slice=shown.slice((state.page-1)*PAGE,state.page*PAGE);var openAll=slice.length<=12;
 $('rows').innerHTML=slice.map(function(f){return rowHtml(f,openAll||state.open===f.id);}).join('')||'<tr><td colspan="5" class="muted">no findings match</td></tr>';
 $('count-shown').textContent=shown.length;$('page-info').textContent='page '+state.page+' of '+pages;
 ['status','severity','rule','account'].forEach(function(k){$('f-'+k).value=state[k];});$('f-q').value=state.q;
 Array.prototype.forEach.call(document.querySelectorAll('.card'),function(c){c.classList.toggle('active',c.getAttribute('data-status')===state.status&&!!state.status);});writeHash();}
function opt(sel,vals){sel.innerHTML='<option value="">all</option>'+vals.map(function(v){return '<option value="'+esc(v)+'">'+esc(v)+'</option>';}).join('');}
function uniq(a){var s={};a.forEach(function(x){if(x)s[x]=1;});return Object.keys(s).sort();}
function init(){var S=R.summary.by_status;$('count-total').textContent=F.length;['fail','unknown','suppressed','pass'].forEach(function(k){$('count-'+k).textContent=S[k]||0;});
 opt($('f-status'),['fail','unknown','pass']);opt($('f-severity'),['critical','high','medium','low','info']);opt($('f-rule'),uniq(F.map(function(f){return f.rule.id;})));opt($('f-account'),uniq(F.map(function(f){return f.account;})));
 ['status','severity','rule','account'].forEach(function(k){$('f-'+k).addEventListener('change',function(){state[k]=this.value;state.page=1;render();});});
 $('f-q').addEventListener('input',function(){state.q=this.value;state.page=1;render();});
 Array.prototype.forEach.call(document.querySelectorAll('.card[data-status]'),function(c){c.addEventListener('click',function(){var s=c.getAttribute('data-status');if(s==='suppressed'){$('suppressed').scrollIntoView();return;}state.status=(state.status===s?'':s);state.page=1;render();});});
 $('prev').addEventListener('click',function(){if(state.page>1){state.page--;render();}});$('next').addEventListener('click',function(){state.page++;render();});
 $('rows').addEventListener('click',function(ev){var tr=ev.target.closest('tr.row');if(!tr)return;var id=tr.getAttribute('data-id');state.open=(state.open===id?'':id);render();});
 $('clear').addEventListener('click',function(){state={status:'',severity:'',rule:'',account:'',q:'',page:1,open:''};render();});
 var supp=F.filter(function(f){return f.status==='suppressed';});$('supp-count').textContent=supp.length;$('supp-rows').innerHTML=supp.map(function(f){return rowHtml(f,true);}).join('')||'<tr><td colspan="5" class="muted">none</td></tr>';
 var p=readHash();render();if(p.click){var el=document.getElementById(p.click);if(el){el.click();}else{recordError('no element to click: '+p.click);}}
 window.addEventListener('hashchange',function(){readHash();render();});document.body.setAttribute('data-ready','1');}
try{init();}catch(e){recordError('init: '+(e&&e.stack||e));}
})();
"""  # noqa: E501


def _script_json(obj: object) -> str:
    # Inside <script>: no "</" (ends the element) and no U+2028/9 surprises.
    return (
        json.dumps(obj, separators=(",", ":"))
        .replace("</", "<\\/")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def _exposures(report: AuditReport) -> str:
    if not report.exposures:
        return ""
    rows = []
    for e in report.exposures:
        lists = "".join(
            f"<details><summary>{html.escape(b.label)}: {len(b.principals)}</summary><code>"
            + "<br>".join(html.escape(p) for p in b.principals)
            + "</code></details>"
            for b in e.buckets
        )
        can = (
            f"<details><summary>{len(e.can)} of {e.total_principals}</summary><code>"
            + "<br>".join(html.escape(p) for p in e.can)
            + "</code></details>"
        )
        status = (
            f'<span class="badge s-unknown">UNKNOWN</span> {html.escape(e.reason or "")}'
            if e.status == "unknown"
            else ""
        )
        rows.append(
            f"<tr><td><code>{html.escape(e.resource)}</code></td><td>{html.escape(e.action)}</td>"
            f"<td>{can if e.status == 'exact' or e.can else ''}{status}</td><td>{lists}</td></tr>"
        )
    return (
        '<h2 id="exposure">Exposure: who can read each sensitive resource</h2>'
        '<p class="muted">Exact over the snapshot\'s principals (who-can along every path, with and without '
        "constraints).</p><table class='exp'><thead><tr><th>resource</th><th>action</th><th>principals that can</th>"
        "<th>how</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
    )


def _access(report: AuditReport) -> str:
    if not report.access_levels:
        return ""
    levels = sorted({lv for a in report.access_levels for lv in a.levels})
    head = "".join(f"<th>{html.escape(lv)}</th>" for lv in levels)
    body = "".join(
        f"<tr><td><code>{html.escape(a.principal)}</code></td>"
        + "".join(f"<td>{a.levels.get(lv, 0)}</td>" for lv in levels)
        + "</tr>"
        for a in report.access_levels[:2000]
    )
    return (
        f'<h2 id="access">Actions granted per access level</h2><details><summary>{len(report.access_levels)} '
        f"principals ({html.escape(report.access_levels[0].basis)})</summary><table><thead><tr><th>principal</th>"
        f"{head}</tr></thead><tbody>{body}</tbody></table></details>"
    )


def _rules(report: AuditReport) -> str:
    rows = "".join(
        f"<tr><td>{html.escape(r.title)}</td><td>{html.escape(r.status)}</td><td>{r.findings}</td>"
        f"<td>{r.seconds}</td><td>{html.escape(r.reason or '')}</td></tr>"
        for r in report.rules
    )
    return (
        '<h2 id="rules">Rules</h2><table><thead><tr><th>rule</th><th>run</th><th>findings</th><th>seconds</th>'
        f"<th>note</th></tr></thead><tbody>{rows}</tbody></table>"
    )


def render_html(report: AuditReport, page_size: int = PAGE_SIZE) -> str:
    data = _script_json(to_json(report))
    snaps = ", ".join(f"{html.escape(s.path)} (sha256 {s.sha256[:16]}…)" for s in report.snapshots)
    warnings = "".join(f"<li>{html.escape(w)}</li>" for w in report.warnings[:100])
    cards = "".join(
        f'<div class="card {k}" id="card-{k}" data-status="{k}"><b id="count-{k}">0</b>{label}</div>'
        for k, label in (
            ("fail", "failing"),
            ("unknown", "unknown (not proved)"),
            ("suppressed", "suppressed"),
            ("pass", "passed (proved)"),
        )
    )
    sev = "".join(
        f'<span class="sev sev-{lv}">{lv}: {report.summary.by_severity.get(lv, 0)}</span> &nbsp; '
        for lv in report.summary.by_severity
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<title>IAM audit report</title><style>{CSS}</style></head>
<body><header><h1>IAM audit report</h1>
<div class="meta">{snaps} · zone of trust: {html.escape(report.zone_of_trust)} · accounts: {html.escape(", ".join(report.accounts))} · generated {html.escape(report.generated_at)} in {report.seconds} s</div></header>
<main>
<div class="cards"><div class="card total"><b id="count-total">0</b>findings</div>{cards}</div>
<div>failing by severity: {sev}</div>
{f'<ul class="warnings">{warnings}</ul>' if warnings else ""}
<pre id="errors"></pre>
<h2 id="findings">Findings</h2>
<div class="filters">
<label>status <select id="f-status"></select></label>
<label>severity <select id="f-severity"></select></label>
<label>rule <select id="f-rule"></select></label>
<label>account <select id="f-account"></select></label>
<input id="f-q" type="search" placeholder="search principal, resource, id…" size="32">
<button id="clear">clear</button>
<span class="muted"><span id="count-shown">0</span> shown</span>
</div>
<table><thead><tr><th>status</th><th>severity</th><th>rule</th><th>finding</th><th>account</th></tr></thead>
<tbody id="rows"></tbody></table>
<div class="pager"><button id="prev">◀ previous</button><span id="page-info"></span><button id="next">next ▶</button></div>
<h2 id="suppressed">Suppressed (<span id="supp-count">0</span>)</h2>
<table><tbody id="supp-rows"></tbody></table>
{_exposures(report)}
{_access(report)}
{_rules(report)}
<script type="application/json" id="report-data">{data}</script>
<script>{JS % {"page": page_size}}</script>
</main></body></html>
"""  # noqa: E501
