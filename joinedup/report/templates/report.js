/* The report page's charts: the one place figures are drawn. The data of every view (a service or all, and a
   period) is precomputed and suppressed in Python (joinedup/report/views.py) and embedded as JSON; this script
   only draws the selected view with the inlined plotly.js (Plotly.react) and writes each chart's caption and
   "the numbers" table. It never adds counts up: what it shows is what the view carries. */
(function () {
  'use strict';
  const META = JSON.parse(document.getElementById('report-meta').textContent);
  const VIEWS = JSON.parse(document.getElementById('report-views').textContent);
  const SMALL = META.small_n;
  const CONFIG = {displaylogo: false, responsive: true, displayModeBar: false};
  const FONT = {family: 'system-ui, -apple-system, Segoe UI, Roboto, sans-serif', size: 12, color: '#222'};
  const BASE = {template: {}, font: FONT, paper_bgcolor: '#fff', plot_bgcolor: '#fff',
                margin: {l: 70, r: 30, t: 30, b: 60}, height: 440};
  const WEEKDAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
  const HOURS = Array.from({length: 24}, (_, h) => String(h).padStart(2, '0'));

  const byCode = (list) => Object.fromEntries(list.map((x) => [x.code, x]));
  const CH = byCode(META.channels);
  const TR = byCode(META.triggers);
  const SV = byCode(META.services);
  const PERIODS = byCode(META.periods.map((p) => Object.assign({code: p.id}, p)));
  const MONTH = Object.fromEntries(META.periods.filter((p) => p.kind === 'month').map((p) => [p.id, p]));

  const isN = (x) => typeof x === 'number';
  const fmtN = (x) => (x === null || x === undefined ? '–' : isN(x) ? x.toLocaleString('en-GB') : String(x));
  const fmtP = (x) => (x === null || x === undefined ? 'withheld' : Math.round(x * 100) + '%');
  const dagger = (n) => (isN(n) && n > 0 && n < SMALL ? '†' : '');
  const chLabel = (c) => (CH[c] ? CH[c].label : c);
  const trLabel = (t) => (TR[t] ? TR[t].label : t);
  const outcome = (o) => META.outcomes[o] || o;
  const alpha = (hex, a) => 'rgba(' + [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16)).join(',') + ',' + a + ')';
  const chColour = (c, a) => alpha(CH[c] ? CH[c].colour : '#999999', a === undefined ? 1 : a);
  const target = (t) => chLabel(t[0]) + (t[1] === 'all' ? '' : ' (' + (t[1] === 'x' ? 'X' : t[1][0].toUpperCase() + t[1].slice(1)) + ')') +
    ' · ' + (META.sla[t[2]] || t[2]);
  const monthLabel = (m) => (MONTH[m] ? MONTH[m].short + (MONTH[m].note ? ' (' + MONTH[m].note + ')' : '') : m);

  function empty(message) {
    return {data: [], layout: Object.assign({}, BASE, {height: 160, xaxis: {visible: false}, yaxis: {visible: false},
      annotations: [{text: message, showarrow: false, font: {size: 15, color: '#555'}}]})};
  }
  const NONE = 'Nothing of this kind in the selected service and period';

  /* ---- charts: each returns {data, layout, table: {head, rows}} from one view ---- */

  function sankey(v, kind) {
    const s = v.sankey[kind];
    const table = {head: ['From (step)', 'To (step)', 'Journeys'],
      rows: s.links.map((l) => [stepName(l[0]), stepName(l[1]), fmtN(l[2])])};
    if (!s.links.length) return Object.assign(empty(isN(s.journeys) && s.journeys > 0 && s.hidden !== '0'
      ? 'Every flow here is too small to show (small cells suppressed)' : 'No journey here has a second step'), {table});
    const nodes = {};
    const order = [];
    s.links.forEach((l) => [l[0], l[1]].forEach((n) => { if (!(n in nodes)) { nodes[n] = order.length; order.push(n); } }));
    const through = order.map((n) => Math.max(
      s.links.filter((l) => l[0] === n).reduce((a, l) => a + l[2], 0),
      s.links.filter((l) => l[1] === n).reduce((a, l) => a + l[2], 0)));
    const data = [{type: 'sankey', arrangement: 'snap', valueformat: ',d',
      node: {label: order.map((n, i) => stepName(n) + ': ' + fmtN(through[i])), pad: 12, thickness: 14,
             color: order.map((n) => chColour(n.split(':')[1]))},
      link: {source: s.links.map((l) => nodes[l[0]]), target: s.links.map((l) => nodes[l[1]]),
             value: s.links.map((l) => l[2]), color: s.links.map((l) => chColour(l[0].split(':')[1], 0.35)),
             hovertemplate: '%{source.label} → %{target.label}<br>%{value:,d} journeys<extra></extra>'}}];
    return {data, layout: Object.assign({}, BASE, {height: 540, margin: {l: 20, r: 20, t: 20, b: 20}}), table};
  }
  function stepName(node) {
    const [step, ch] = node.split(':');
    return chLabel(ch) + ' (' + step + ')';
  }

  function heatText(values, fmt) { return values.map((row) => row.map(fmt)); }

  function transitions(v) {
    const t = v.transitions;
    const codes = META.channels.map((c) => c.code);
    const labels = codes.map(chLabel);
    const table = {head: ['Contact\'s channel', 'n'].concat(labels),
      rows: codes.map((c, i) => [labels[i], fmtN(t.rows[i])].concat(t.n[i].map((n, j) =>
        fmtN(n) + (t.share[i][j] === null ? '' : ' (' + fmtP(t.share[i][j]) + ')'))))};
    if (!t.rows.some((r) => r === 0 ? false : true)) return Object.assign(empty(NONE), {table});
    const rowLabels = labels.map((l, i) => l + ' (n=' + fmtN(t.rows[i]) + ')');
    const data = [{type: 'heatmap', z: t.share, x: labels, y: rowLabels, zmin: 0, zmax: 1, colorscale: META.cividis,
      text: heatText(t.share.map((r, i) => r.map((s, j) => [s, t.n[i][j]])), (p) => (p[0] === null ? (p[1] === 0 ? '' : String(p[1])) : fmtP(p[0]))),
      texttemplate: '%{text}', textfont: {size: 11}, hoverongaps: false, xgap: 1, ygap: 1,
      customdata: t.n.map((r) => r.map(fmtN)), colorbar: {title: {text: 'share of row'}, tickformat: '.0%'},
      hovertemplate: '%{y} → %{x}<br>%{customdata} (%{z:.0%} of the row)<extra></extra>'}];
    return {data, table, layout: Object.assign({}, BASE, {height: 470, margin: {l: 150, r: 30, t: 20, b: 90},
      xaxis: {title: {text: 'channel of the next contact in the journey'}, side: 'bottom'},
      yaxis: {title: {text: ''}, autorange: 'reversed'}})};
  }

  function switchTimes(v) {
    const t = v.switch_times;
    const table = {head: ['After', 'n'].concat(META.bands.map((b) => b.label)),
      rows: t.triggers.map((tr, i) => [trLabel(tr), fmtN(t.n[i])].concat(t.bands[i].map((n, j) =>
        fmtN(n) + (t.share[i][j] === null ? '' : ' (' + fmtP(t.share[i][j]) + ')'))))};
    if (!t.triggers.length) return Object.assign(empty(NONE), {table});
    const ys = t.triggers.map((tr, i) => trLabel(tr) + ' (n=' + fmtN(t.n[i]) + ')');
    const data = META.bands.map((b, j) => ({type: 'bar', orientation: 'h', name: b.label, y: ys,
      x: t.share.map((r) => r[j]), marker: {color: b.colour, line: {color: '#fff', width: 1}},
      text: t.share.map((r) => (r[j] === null || r[j] < 0.06 ? '' : fmtP(r[j]))), textposition: 'inside',
      insidetextanchor: 'middle', textfont: {color: j < 3 ? '#222' : '#fff'},
      customdata: t.bands.map((r) => fmtN(r[j])),
      hovertemplate: '%{y}<br>' + b.label + ': %{customdata} (%{x:.0%})<extra></extra>'}));
    return {data, table, layout: Object.assign({}, BASE, {barmode: 'stack', height: 120 + 44 * ys.length,
      margin: {l: 230, r: 30, t: 30, b: 50}, legend: {orientation: 'h', y: 1.08, traceorder: 'normal'},
      xaxis: {title: {text: 'share of the switches after it (time from the earlier contact to the switch)'},
              tickformat: '.0%', range: [0, 1]}, yaxis: {autorange: 'reversed'}})};
  }

  function switchPairs(v) {
    const p = v.switch_pairs;
    const names = p.pairs.map((x, i) => chLabel(x[0]) + ' → ' + chLabel(x[1]) + ' (n=' + fmtN(p.n[i]) + ')');
    const table = {head: ['Switch', 'n'].concat(p.triggers.map(trLabel)),
      rows: p.pairs.map((x, i) => [chLabel(x[0]) + ' → ' + chLabel(x[1]), fmtN(p.n[i])].concat(p.by[i].map(fmtN)))};
    if (!p.pairs.length) return Object.assign(empty(NONE), {table});
    const data = p.triggers.map((tr, j) => ({type: 'bar', orientation: 'h', name: trLabel(tr), y: names,
      x: p.by.map((r) => (isN(r[j]) ? r[j] : null)), marker: {color: TR[tr] ? TR[tr].colour : '#999'},
      text: p.by.map((r) => (isN(r[j]) && r[j] > 0 ? fmtN(r[j]) : '')), textposition: 'inside', insidetextanchor: 'middle',
      textfont: {color: j < p.triggers.length / 2 ? '#fff' : '#222'},
      customdata: p.by.map((r) => fmtN(r[j])), hovertemplate: '%{y}<br>after ' + trLabel(tr).toLowerCase() +
        ': %{customdata}<extra></extra>'})).filter((tr) => tr.x.some((x) => x));
    return {data, table, layout: Object.assign({}, BASE, {barmode: 'stack', height: 140 + 40 * names.length,
      margin: {l: 250, r: 30, t: 40, b: 50}, legend: {orientation: 'h', y: 1.12},
      xaxis: {title: {text: 'switches'}}, yaxis: {autorange: 'reversed'}})};
  }

  function sla(v) {
    const s = v.sla;
    const table = {head: ['Target', 'all hours'].concat(HOURS.map((h) => h + ':00')),
      rows: s.targets.map((t, i) => [target(t), fmtP(s.total_met[i]) + ' of ' + fmtN(s.total[i])].concat(
        s.met[i].map((m, h) => (s.n[i][h] === 0 ? '' : fmtP(m) + ' of ' + fmtN(s.n[i][h]) + dagger(s.n[i][h])))))};
    if (!s.targets.length) return Object.assign(empty(NONE), {table});
    const cols = 2;
    const rows = Math.ceil(s.targets.length / cols);
    const layout = Object.assign({}, BASE, {height: 60 + 190 * rows, showlegend: false,
      margin: {l: 60, r: 20, t: 40, b: 40}, annotations: []});
    const data = [];
    s.targets.forEach((t, i) => {
      const r = Math.floor(i / cols);
      const c = i % cols;
      const ax = i === 0 ? '' : String(i + 1);
      const x0 = c / cols + (c ? 0.04 : 0);
      const x1 = (c + 1) / cols - (c ? 0 : 0.04);
      const y1 = 1 - r / rows - 0.06 / rows * 1.2;
      const y0 = 1 - (r + 1) / rows + 0.12 / rows * 1.6;
      layout['xaxis' + ax] = {domain: [x0, x1], anchor: 'y' + ax, range: [-0.5, 23.5], dtick: 3,
        tickvals: [0, 3, 6, 9, 12, 15, 18, 21], ticktext: ['00', '03', '06', '09', '12', '15', '18', '21'],
        title: r === rows - 1 ? {text: 'local hour the contact came in'} : undefined};
      layout['yaxis' + ax] = {domain: [y0, y1], anchor: 'x' + ax, range: [0, 1.05], tickformat: '.0%', dtick: 0.5};
      layout.annotations.push({text: '<b>' + target(t) + '</b>: ' + fmtP(s.total_met[i]) + ' of ' + fmtN(s.total[i]) +
        ' met', xref: 'paper', yref: 'paper', x: x0, y: y1 + 0.01, xanchor: 'left', yanchor: 'bottom', showarrow: false,
        font: {size: 12}});
      const colour = chColour(t[0]);
      const hours = HOURS.map((_, h) => h);
      data.push({type: 'scatter', mode: 'lines+markers', xaxis: 'x' + ax, yaxis: 'y' + ax, name: target(t),
        x: hours, y: s.met[i], connectgaps: false, line: {color: colour, width: 2},
        marker: {size: 7, color: s.n[i].map((n) => (isN(n) && n >= SMALL ? colour : '#fff')),
                 line: {color: colour, width: 2}, symbol: s.n[i].map((n) => (isN(n) && n >= SMALL ? 'circle' : 'circle-open'))},
        text: s.n[i].map((n) => fmtN(n) + dagger(n)),
        hovertemplate: '%{x}:00 — %{y:.0%} of %{text} met<extra>' + target(t) + '</extra>'});
    });
    return {data, layout, table};
  }

  function weekdayHour(values, text, colourbar, zfmt) {
    return {type: 'heatmap', z: values, x: HOURS, y: WEEKDAYS, colorscale: META.cividis, xgap: 1, ygap: 1,
      text: text, texttemplate: '%{text}', textfont: {size: 9}, hoverongaps: false,
      colorbar: {title: {text: colourbar}, tickformat: zfmt}};
  }

  function social(v) {
    const s = v.social;
    const table = {head: ['Weekday'].concat(HOURS),
      rows: s.n.map((r, d) => [WEEKDAYS[d]].concat(r.map((n, h) => (n === 0 ? '' : fmtP(s.met[d][h]) + ' of ' + fmtN(n) + dagger(n)))))};
    if (!isN(s.total) || s.total === 0) return Object.assign(empty('No social media posts in the selected service and period'), {table});
    if (!s.met.some((r) => r.some((m) => m !== null))) return Object.assign(empty('Every cell here rests on too few posts to show (small cells suppressed)'), {table});
    const text = s.met.map((r, d) => r.map((m, h) => (m === null ? (s.n[d][h] === 0 ? '' : String(s.n[d][h])) : Math.round(m * 100) + '%' + dagger(s.n[d][h]))));
    const tr = weekdayHour(s.met, text, 'answered<br>in 15 min', '.0%');
    tr.zmin = 0; tr.zmax = 1;
    tr.customdata = s.n.map((r) => r.map((n) => fmtN(n) + dagger(n)));
    tr.hovertemplate = '%{y} %{x}:00: %{z:.0%} of %{customdata} posts answered in 15 min<extra></extra>';
    return {data: [tr], table, layout: Object.assign({}, BASE, {height: 330, xaxis: {type: 'category', title: {text: 'local hour (cell: % answered within 15 minutes; † fewer than ' + SMALL + ' posts)'}}, yaxis: {autorange: 'reversed'}})};
  }

  function repeat(v) {
    const r = v.repeat;
    const names = r.services.map((s) => (SV[s] ? SV[s].label : s));
    const table = {head: ['Service', 'contacts', 'first contacts', 'failure demand', 'share', 'cost of failure demand'],
      rows: names.map((n, i) => [n, fmtN(r.n[i]), fmtN(r.first[i]), fmtN(r.failure[i]), fmtP(r.rate[i]),
        r.cost[i] === null ? 'withheld' : '£' + Math.round(r.cost[i]).toLocaleString('en-GB')])};
    if (!names.length) return Object.assign(empty(NONE), {table});
    const num = (xs) => xs.map((x) => (isN(x) ? x : null));
    const data = [
      {type: 'bar', name: 'first contacts', x: names, y: num(r.first), marker: {color: '#c8c8c8'},
       customdata: r.first.map(fmtN), hovertemplate: '%{x}: %{customdata} first contacts<extra></extra>'},
      {type: 'bar', name: 'failure demand (repeat about an unresolved need)', x: names, y: num(r.failure),
       marker: {color: '#4d4d4d'}, text: r.failure.map((f, i) => fmtN(f) + (r.rate[i] === null ? '' : ' (' + fmtP(r.rate[i]) + ')')),
       textposition: 'outside', cliponaxis: false, customdata: r.cost.map((c) => (c === null ? 'withheld' : '£' + Math.round(c).toLocaleString('en-GB'))),
       hovertemplate: '%{x}: %{text} failure demand, costing %{customdata}<extra></extra>'}];
    return {data, table, layout: Object.assign({}, BASE, {barmode: 'stack', height: 460, legend: {orientation: 'h', y: 1.1},
      margin: {l: 70, r: 30, t: 40, b: 110}, yaxis: {title: {text: 'contacts'}}, xaxis: {tickangle: -30}})};
  }

  function shift(v) {
    const s = v.shift;
    const codes = META.channels.map((c) => c.code);
    const months = s.months.map(monthLabel);
    const table = {head: ['Month', 'contacts', '£ per contact'].concat(codes.map(chLabel)),
      rows: s.months.map((m, i) => [monthLabel(m), fmtN(s.n[i]), s.cpc[i] === null ? 'withheld' : '£' + s.cpc[i].toFixed(2)].concat(
        codes.map((c, j) => fmtN(s.channels[j][i]) + (s.share[j][i] === null ? '' : ' (' + fmtP(s.share[j][i]) + ')'))))};
    if (!s.n.some((n) => isN(n) && n > 0)) return Object.assign(empty(NONE), {table});
    const partial = s.months.map((m) => !!(MONTH[m] && MONTH[m].note));
    const data = codes.map((c, j) => ({type: 'bar', name: chLabel(c), x: months, y: s.share[j],
      marker: {color: partial.map((p) => chColour(c, p ? 0.4 : 1)), line: {color: chColour(c), width: 1}},
      text: s.share[j].map((x) => (x === null || x < 0.04 ? '' : fmtP(x))), textposition: 'inside', insidetextanchor: 'middle',
      customdata: s.channels[j].map(fmtN), hovertemplate: chLabel(c) + ': %{y:.0%} (%{customdata} contacts)<extra></extra>'}));
    data.push({type: 'scatter', mode: 'lines+markers+text', name: '£ per contact', x: months, y: s.cpc, yaxis: 'y2',
      line: {color: '#666', dash: 'dot'}, marker: {color: '#fff', size: 9, line: {color: '#666', width: 2}},
      text: s.cpc.map((x) => (x === null ? '' : '£' + x.toFixed(2))), textposition: 'top center'});
    return {data, table, layout: Object.assign({}, BASE, {barmode: 'stack', height: 480, legend: {orientation: 'h', y: -0.18, traceorder: 'normal'},
      margin: {l: 70, r: 70, t: 30, b: 110}, yaxis: {title: {text: 'share of contacts'}, tickformat: '.0%', range: [0, 1]},
      yaxis2: {title: {text: '£ per contact'}, overlaying: 'y', side: 'right', rangemode: 'tozero', showgrid: false,
               tickprefix: '£', tickformat: '.2f'},
      xaxis: {type: 'category'}})};
  }

  function outOfHours(v) {
    const o = v.out_of_hours;
    const codes = META.channels.map((c) => c.code);
    const names = codes.map((c, i) => chLabel(c) + ' (n=' + fmtN(o.n[i]) + ')');
    const table = {head: ['Channel', 'opening hours', 'contacts', 'out of hours', 'of which on bank holidays', 'share out of hours'],
      rows: codes.map((c, i) => [chLabel(c), META.opening_hours[c] || '', fmtN(o.n[i]), fmtN(o.ooh[i]), fmtN(o.bh[i]), fmtP(o.share[i])])};
    if (!o.n.some((n) => isN(n) && n > 0)) return Object.assign(empty(NONE), {table});
    const ordinary = o.share.map((s, i) => (s === null ? null : (o.share_bh[i] === null ? s : s - o.share_bh[i])));
    const data = [
      {type: 'bar', orientation: 'h', name: 'outside opening hours', y: names, x: ordinary,
       marker: {color: codes.map((c) => chColour(c))},
       customdata: o.ooh.map(fmtN), hovertemplate: '%{y}: %{customdata} contacts out of hours<extra></extra>'},
      {type: 'bar', orientation: 'h', name: 'on a bank holiday (closed)', y: names, x: o.share_bh,
       marker: {color: codes.map((c) => chColour(c, 0.5)), pattern: {shape: '/', fgcolor: '#222', size: 6}},
       customdata: o.bh.map(fmtN), hovertemplate: '%{y}: %{customdata} contacts on bank holidays<extra></extra>'},
      {type: 'scatter', mode: 'text', showlegend: false, y: names, x: o.share.map((s) => (s === null ? 0 : s)),
       text: o.share.map((s) => (s === null ? 'withheld' : fmtP(s))), textposition: 'middle right', cliponaxis: false,
       hoverinfo: 'skip'}];
    return {data, table, layout: Object.assign({}, BASE, {barmode: 'stack', height: 120 + 40 * codes.length,
      margin: {l: 170, r: 60, t: 40, b: 50}, legend: {orientation: 'h', y: 1.12},
      xaxis: {title: {text: 'share of the channel\'s contacts that came while it was closed'}, tickformat: '.0%', rangemode: 'tozero'},
      yaxis: {autorange: 'reversed'}})};
  }

  function demand(v) {
    const g = v.out_of_hours.grid;
    const table = {head: ['Weekday'].concat(HOURS), rows: g.map((r, d) => [WEEKDAYS[d]].concat(r.map(fmtN)))};
    if (!g.some((r) => r.some((n) => isN(n) && n > 0))) return Object.assign(empty(NONE), {table});
    const z = g.map((r) => r.map((n) => (isN(n) ? n : null)));
    const tr = weekdayHour(z, g.map((r) => r.map((n) => (n === 0 ? '' : isN(n) && n >= 1000 ? (n / 1000).toFixed(1) + 'k' : String(n)))), 'contacts', ',d');
    tr.customdata = g.map((r) => r.map(fmtN));
    tr.hovertemplate = '%{y} %{x}:00: %{customdata} contacts<extra></extra>';
    return {data: [tr], table, layout: Object.assign({}, BASE, {height: 330, xaxis: {type: 'category', title: {text: 'local hour (cell: contacts)'}}, yaxis: {autorange: 'reversed'}})};
  }

  function examples(v) {
    const e = v.examples.journeys;
    const table = {head: ['Journeys with this pattern', 'Steps'],
      rows: e.map((j) => [fmtN(j.n), j.steps.map((s, i) => (i ? '→ after ' + s[2] + ': ' : '') + chLabel(s[0]) + ' (' + outcome(s[1]) + ')').join(' ')])};
    if (!e.length) return Object.assign(empty('No pattern here is shared by enough journeys to show'), {table});
    const data = [];
    const annotations = [];
    const rows = e.map((j, i) => 'Pattern ' + (i + 1) + ': one of ' + fmtN(j.n) + ' journeys');
    e.forEach((j, i) => {
      data.push({type: 'scatter', mode: 'lines+markers+text', showlegend: false, x: j.steps.map((_, k) => k + 1),
        y: j.steps.map(() => rows[i]), line: {color: '#999', width: 2},
        marker: {size: 22, color: j.steps.map((s) => chColour(s[0])), line: {color: '#fff', width: 2}},
        text: j.steps.map((s) => chLabel(s[0]) + '<br>' + outcome(s[1]).toLowerCase()), textposition: 'bottom center',
        hovertemplate: '%{text}<extra></extra>'});
      j.steps.forEach((s, k) => { if (k) annotations.push({x: k + 0.5, y: rows[i], text: s[2], showarrow: false, yshift: 12, font: {size: 11, color: '#444'}}); });
    });
    return {data, table, layout: Object.assign({}, BASE, {height: 110 + 110 * e.length, annotations,
      margin: {l: 260, r: 40, t: 20, b: 40}, xaxis: {title: {text: 'step (gap labelled with the time since the step before)'}, dtick: 1, range: [0.5, 5.7], zeroline: false},
      yaxis: {autorange: 'reversed', range: [-0.5, e.length - 0.3], type: 'category'}})};
  }

  const CHARTS = {
    'sankey': (v) => sankey(v, document.querySelector('input[name=sankey-kind]:checked').value),
    'transitions': transitions, 'switch-times': switchTimes, 'switch-pairs': switchPairs, 'sla-hour': sla,
    'social-sla': social, 'repeat': repeat, 'shift': shift, 'out-of-hours': outOfHours, 'demand': demand,
    'journeys': examples,
  };

  function fillTable(id, table) {
    const el = document.getElementById('numbers-' + id);
    const head = '<tr>' + table.head.map((h) => '<th>' + esc(h) + '</th>').join('') + '</tr>';
    const body = table.rows.length ? table.rows.map((r) => '<tr>' + r.map((c) => '<td>' + esc(c) + '</td>').join('') + '</tr>').join('')
      : '<tr><td colspan="' + table.head.length + '">nothing in this view</td></tr>';
    el.innerHTML = '<thead>' + head + '</thead><tbody>' + body + '</tbody>';
  }
  function esc(x) {
    return String(x).replace(/[&<>"']/g, (c) => ({'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'}[c]));
  }
  function text(id, value) { document.getElementById(id).textContent = value; }

  const service = document.getElementById('filter-service');
  const period = document.getElementById('filter-period');

  function current() { return VIEWS[service.value + '|' + period.value]; }

  function render() {
    const v = current();
    const p = PERIODS[period.value];
    const where = (service.value === '*' ? 'All services' : SV[service.value].label) + ' · ' + p.long;
    document.querySelectorAll('.range').forEach((el) => { el.textContent = where + ' · ' + META.suppression; });
    text('view-label', where);
    ['switching', 'unanswered'].forEach((key) => {
      const h = v.head[key];
      text('head-' + key + '-value', h.value);
      text('head-' + key + '-n', h.n);
      text('head-' + key + '-estimate', h.estimate);
      text('head-' + key + '-change', h.change);
    });
    text('head-coverage', v.head.coverage);
    Object.entries(CHARTS).forEach(([id, make]) => {
      const spec = make(v);
      Plotly.react(id, spec.data, spec.layout, CONFIG);
      fillTable(id, spec.table);
      text('caption-' + id, v.captions[id]);
    });
    document.body.dataset.view = service.value + '|' + period.value;
  }

  service.addEventListener('change', render);
  period.addEventListener('change', render);
  document.querySelectorAll('input[name=sankey-kind]').forEach((el) => el.addEventListener('change', () => {
    const spec = CHARTS.sankey(current());
    Plotly.react('sankey', spec.data, spec.layout, CONFIG);
    fillTable('sankey', spec.table);
  }));
  /* printing shows every table: open the details (print media, emulated or real) */
  const openAll = () => document.querySelectorAll('details.numbers').forEach((d) => { d.open = true; });
  window.addEventListener('beforeprint', openAll);
  const printing = window.matchMedia('print');
  printing.addEventListener('change', (e) => { if (e.matches) openAll(); });
  if (printing.matches) openAll();
  render();
})();
