#!/usr/bin/env bash
# The QA engineer's daily loop, run for real in a temporary folder and printed as markdown:
# record a suite, replay it as CI does, change the prompt, see the replay miss, re-record,
# compare with the last good run, fix the prompt, and see CI pass again.
#
# docs/ci.md ("Walkthrough: the daily loop") is this script's output; regenerate it with
#     scripts/ci_walkthrough.sh > /tmp/walkthrough.md
# and paste it over that section. Run ids, timings and p-values change from run to run.
#
# The target is supportgate's scripted fake model (`fake/scripted`): no network, no key. It
# stands in for a real model, so where the story says "the model now answers X", the script
# changes the scripted reply together with the prompt (both are part of the cassette key).
#
# EVALS overrides the command (default: `evals` on PATH, else `python -m evals`).
set -uo pipefail

if [[ -z "${EVALS:-}" ]]; then
  if command -v evals >/dev/null 2>&1; then EVALS=evals; else EVALS="python -m evals"; fi
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/supportgate-walkthrough.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 2
unset CI

GOOD="Tu reembolso de EUR 10.00 llegará en 10 días hábiles."
BAD="Tu reembolso llegará pronto. Además te regalamos un cupón de 20 euros por las molestias."

mkdir -p cases policies
cat > policies/acme.yaml <<'EOF'
id: acme
name: Acme Pay
text: |
  Refunds are processed within 10 business days.
  Returns are accepted within 30 days of delivery.
EOF
{
  echo "cases:"
  n=0
  for question in "¿Dónde está mi reembolso?" "¿Cuándo me devuelven el dinero?" \
    "Pedí un reembolso hace una semana, ¿qué pasa?" "¿Cuánto tarda el reembolso?" \
    "Quiero saber el estado de mi reembolso." "¿Ya procesaron mi devolución de dinero?"; do
    n=$((n + 1))
    cat <<EOF
  - {id: refund-00$n, intent: refund_status, kind: support, language: es, channel: chat,
     risk: medium, company: acme, messages: [{role: user, content: "$question"}],
     facts: {amount: EUR 10.00}, reference: "$GOOD"}
EOF
  done
} > cases/refunds.yaml

write_suite() {  # $1: the system prompt's instruction, $2: what the model answers with it
  cat > suite.yaml <<EOF
name: refunds-es
cases: [{path: cases}]
policies: [policies]
samples: 3
targets:
  - name: bot
    model: fake/scripted
    params: {extra: {replies: ["$2"]}}
    system_prompt: |
      You are the support assistant of {company_name}. $1
      Policy:
      {policy_text}
output: out
EOF
}

step() { printf '\n%s\n\n' "$1"; }
show() {  # print a command and its real output (stdout and stderr) as a console block
  printf '```console\n$ %s\n' "$*"
  local shown=("$@")
  local status
  if [[ "${shown[0]}" == "CI=true" ]]; then
    CI=true $EVALS "${shown[@]:2}" > output.txt 2>&1
  else
    $EVALS "${shown[@]:1}" > output.txt 2>&1
  fi
  status=$?
  sed -e "s|$work/||g" -e "s|$work|.|g" output.txt  # paths as seen from the suite's folder
  printf '(exit %s)\n```\n' "$status"
}

write_suite "Answer in Spanish, briefly." "$GOOD"

step "**1. Check the inputs, then record the answers** (on a machine with the provider key):"
show evals validate suite.yaml cases policies
show evals run suite.yaml --replay record -q
step "Commit \`cassettes/\`. **2. CI replays them** (\`CI\` set: nothing is called live):"
show CI=true evals run suite.yaml -q

step "**3. Change the prompt.** Someone asks the bot to be generous; CI replays the old \
cassettes, which no longer match the rendered prompt, so every answer is a replay miss:"
write_suite "Answer in Spanish, briefly, and be generous with unhappy customers." "$GOOD"
show CI=true evals run suite.yaml -q

step "**4. Re-record** with the new prompt. The model now offers a coupon the policy does not \
grant; the critical finding fails the gates:"
write_suite "Answer in Spanish, briefly, and be generous with unhappy customers." "$BAD"
show evals run suite.yaml --replay record -q
show evals show latest --limit 1

step "**5. Compare** with the last good run (step 2, two runs before \`latest\`):"
show evals compare latest~2 latest

step "**6. Fix the prompt**, re-record, and check it against the same baseline:"
write_suite "Answer in Spanish, briefly. Offer only what the policy grants." "$GOOD"
show evals run suite.yaml --replay record -q
show evals compare latest~3 latest
step "Commit the prompt and \`cassettes/\`; **CI passes again**:"
show CI=true evals run suite.yaml -q
