// The reference open evaluator (@cloud-copilot/iam-simulate) on `reasoner decide --batch` lines,
// one request at a time: node driver.mjs BATCH.jsonl [OUT.jsonl]
// Prints one JSON summary line: {"lines", "skipped", "skip_reasons", "errors", "seconds", "cpu_seconds",
// "per_second"}.
// The clock covers parsing each line, building the simulation and running it (as our batch figure
// covers parsing, validating and deciding). OUT gets {"id", "decision"} per simulated line.
import { readFileSync, writeFileSync } from 'node:fs'
import { anonymousPrincipal, runSimulation } from '@cloud-copilot/iam-simulate'

const DECISIONS = { Allowed: 'allow', ExplicitlyDenied: 'explicit_deny', ImplicitlyDenied: 'implicit_deny' }

function text(v) {
  return typeof v === 'boolean' ? String(v) : String(v)
}

function orgLevels(levels, prefix) {
  return (levels || []).map((level, i) => ({
    orgIdentifier: `${prefix}-${i}`,
    policies: level.map((policy, j) => ({ name: `${prefix}[${i}][${j}]`, policy }))
  }))
}

// Our batch line -> a Simulation, or a string saying why the peer cannot express it.
function simulation(line) {
  const req = line.request
  if (line.management_account) return 'management account'
  let principal = req.principal
  if (principal === 'anonymous') principal = anonymousPrincipal
  else if (!principal.startsWith('arn:')) return 'principal is not an ARN'
  const context = {}
  for (const [k, v] of Object.entries(req.context || {})) {
    context[k] = Array.isArray(v) ? v.map(text) : text(v)
  }
  const arnAccount = req.resource.split(':')[4]
  const principalAccount = typeof principal === 'string' ? principal.split(':')[4] : undefined
  const accountId = req.resource_account || arnAccount || principalAccount
  if (!accountId) return 'no resource account'
  const sim = {
    request: { principal, action: req.action, resource: { resource: req.resource, accountId }, contextVariables: context },
    identityPolicies: (line.identity_policies || []).map((policy, i) => ({ name: `identity_policies[${i}]`, policy })),
    serviceControlPolicies: orgLevels(line.scps, 'scp'),
    resourceControlPolicies: orgLevels(line.rcps, 'rcp')
  }
  if (line.resource_policy) sim.resourcePolicy = line.resource_policy
  if (line.permission_boundary) sim.permissionBoundaryPolicies = [{ name: 'boundary', policy: line.permission_boundary }]
  if (line.session_policy) sim.sessionPolicy = line.session_policy
  const viaEndpoint = Object.keys(req.context || {}).some((k) => k.toLowerCase() === 'aws:sourcevpce')
  if (line.vpc_endpoint_policy && viaEndpoint) sim.vpcEndpointPolicies = [{ name: 'vpce', policy: line.vpc_endpoint_policy }]
  return sim
}

const [, , input, output] = process.argv
const lines = readFileSync(input, 'utf8').split('\n').filter((l) => l.trim())
const out = []
const skipReasons = {}
let skipped = 0
let errors = 0
const cpu0 = process.cpuUsage()
const t0 = process.hrtime.bigint()
for (const raw of lines) {
  const line = JSON.parse(raw)
  const sim = simulation(line)
  if (typeof sim === 'string') {
    skipped++
    skipReasons[sim] = (skipReasons[sim] || 0) + 1
    continue
  }
  const res = await runSimulation(sim, {})
  if (res.resultType === 'error') {
    errors++
    out.push({ id: line.id, decision: null })
    continue
  }
  out.push({ id: line.id, decision: DECISIONS[res.overallResult] || res.overallResult })
}
const seconds = Number(process.hrtime.bigint() - t0) / 1e9
const cpu = process.cpuUsage(cpu0)
const cpuSeconds = (cpu.user + cpu.system) / 1e6
if (output) writeFileSync(output, out.map((o) => JSON.stringify(o)).join('\n') + '\n')
const simulated = lines.length - skipped
console.log(
  JSON.stringify({
    lines: lines.length,
    skipped,
    skip_reasons: skipReasons,
    errors,
    seconds,
    cpu_seconds: cpuSeconds,
    per_second: simulated / seconds
  })
)
