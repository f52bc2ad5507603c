{{/* Chart name, truncated to the 63 characters of a DNS label. */}}
{{- define "codetether.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full name: release-chart, or the release name when it already contains the chart name. */}}
{{- define "codetether.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "codetether.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels on every object. */}}
{{- define "codetether.labels" -}}
helm.sh/chart: {{ include "codetether.chart" . }}
{{ include "codetether.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: codetether
{{- end }}

{{/* Selector labels (immutable on a Deployment: never add to these). */}}
{{- define "codetether.selectorLabels" -}}
app.kubernetes.io/name: {{ include "codetether.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Server pods: selector labels + component. */}}
{{- define "codetether.serverSelectorLabels" -}}
{{ include "codetether.selectorLabels" . }}
app.kubernetes.io/component: server
{{- end }}

{{- define "codetether.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "codetether.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "codetether.image" -}}
{{- $tag := default .Chart.AppVersion .Values.image.tag }}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository $tag }}
{{- end }}
{{- end }}

{{/* "true" when a PostgreSQL database is configured, "" in embedded SQLite mode. */}}
{{- define "codetether.postgres" -}}
{{- if or .Values.postgresql.url .Values.postgresql.existingSecret }}true{{ end }}
{{- end }}

{{/* "true" when Redis is configured. */}}
{{- define "codetether.redis" -}}
{{- if or .Values.redis.url .Values.redis.existingSecret }}true{{ end }}
{{- end }}

{{/* Replicas actually run: SQLite mode is single-writer, so always 1. */}}
{{- define "codetether.replicas" -}}
{{- if include "codetether.postgres" . }}{{ int .Values.replicaCount }}{{ else }}1{{ end }}
{{- end }}

{{/* "true" when the HPA is rendered (PostgreSQL mode only). */}}
{{- define "codetether.autoscaling" -}}
{{- if and .Values.autoscaling.enabled (include "codetether.postgres" .) }}true{{ end }}
{{- end }}

{{/* The fewest replicas that can run: decides whether a PDB makes sense. */}}
{{- define "codetether.minReplicas" -}}
{{- if include "codetether.autoscaling" . }}{{ int .Values.autoscaling.minReplicas }}{{ else }}{{ include "codetether.replicas" . }}{{ end }}
{{- end }}

{{/* The chart's own Secret (inline URLs and the API tokens). */}}
{{- define "codetether.secretName" -}}
{{- include "codetether.fullname" . }}
{{- end }}

{{/* The chart's Secret is rendered when any value lives in it. */}}
{{- define "codetether.ownSecret" -}}
{{- if or (and .Values.postgresql.url (not .Values.postgresql.existingSecret)) (not .Values.auth.existingSecret) (and .Values.redis.url (not .Values.redis.existingSecret)) }}true{{ end }}
{{- end }}

{{/*
API tokens for the chart's Secret: the given ones, else the ones generated at
install (read back from the live Secret on upgrade), else a new admin token.
*/}}
{{- define "codetether.authTokens" -}}
{{- if .Values.auth.tokens }}
{{- .Values.auth.tokens }}
{{- else }}
{{- $existing := lookup "v1" "Secret" .Release.Namespace (include "codetether.secretName" .) }}
{{- if and $existing $existing.data (hasKey $existing.data "A2A_AUTH_TOKENS") }}
{{- index $existing.data "A2A_AUTH_TOKENS" | b64dec }}
{{- else }}
{{- printf "admin:ct_%s:admin" (randAlphaNum 40) }}
{{- end }}
{{- end }}
{{- end }}

{{/* Public URL: explicit, else the first ingress host. */}}
{{- define "codetether.publicUrl" -}}
{{- if .Values.publicUrl }}
{{- .Values.publicUrl }}
{{- else if and .Values.ingress.enabled .Values.ingress.hosts }}
{{- $host := (first .Values.ingress.hosts).host }}
{{- printf "%s://%s" (ternary "https" "http" (gt (len .Values.ingress.tls) 0)) $host }}
{{- end }}
{{- end }}

{{/* Environment shared by the server and the migrate Job. $secretName is where inline values live. */}}
{{- define "codetether.databaseEnv" -}}
{{- $ctx := index . 0 }}
{{- $secretName := index . 1 }}
{{- with $ctx }}
{{- if include "codetether.postgres" . }}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ .Values.postgresql.existingSecret | default $secretName }}
      key: {{ ternary .Values.postgresql.existingSecretKey "DATABASE_URL" (not (empty .Values.postgresql.existingSecret)) }}
{{- end }}
- name: CODETETHER_DATA_DIR
  value: {{ .Values.dataDir | quote }}
# Read-only root filesystem: .NET puts per-user folders under HOME.
- name: HOME
  value: /tmp
- name: DOTNET_CLI_TELEMETRY_OPTOUT
  value: "1"
{{- end }}
{{- end }}

{{/*
Container securityContext; capabilities are written out so that every
sequence in the output is indented alike (toYaml does not indent them).
*/}}
{{- define "codetether.containerSecurityContext" -}}
{{- $sc := .Values.securityContext }}
{{- with omit $sc "capabilities" }}
{{ toYaml . }}
{{- end }}
{{- with $sc.capabilities }}
capabilities:
  {{- range $k, $v := . }}
  {{ $k }}:
    {{- range $v }}
    - {{ . }}
    {{- end }}
  {{- end }}
{{- end }}
{{- end }}

{{/* Fail early on settings that cannot work. */}}
{{- define "codetether.validate" -}}
{{- if and .Values.persistence.existingClaim (not .Values.persistence.enabled) }}
{{- fail "persistence.existingClaim is set but persistence.enabled is false" }}
{{- end }}
{{- if and .Values.autoscaling.enabled (include "codetether.postgres" .) (gt (int .Values.autoscaling.minReplicas) (int .Values.autoscaling.maxReplicas)) }}
{{- fail "autoscaling.minReplicas must not exceed autoscaling.maxReplicas" }}
{{- end }}
{{- if not (hasPrefix "/" .Values.dataDir) }}
{{- fail "dataDir must be an absolute path" }}
{{- end }}
{{- end }}
