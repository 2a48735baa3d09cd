/**
 * Positives: synthetic secrets of every detector, embedded in the tool output a coding session
 * shows (shell output, .env files, JSON and YAML configs, git diffs, stack traces, curl
 * commands, source code, the assistant's prose), each also as a JSON string (how hooks,
 * transcripts and gen_ai.* attributes carry it) and as JSON inside a JSON string.
 */
import { generate, password, Random, SECRETS, username, type Secret } from './synthetic.ts';

export interface Planted {
  kind: string;
  /** Substrings that must not survive redaction (a PEM key: each line of its body). */
  needles: string[];
}

export interface PositiveSample {
  template: string;
  text: string;
  planted: Planted[];
}

/** Draws the secrets of one sample and remembers what was planted. */
class Planter {
  readonly planted: Planted[] = [];

  constructor(readonly r: Random) {}

  /** A fresh secret of the kind, planted as it is. */
  secret(kind: string): string {
    return this.plant(generate(this.r, kind));
  }

  plant(secret: Secret, shown = secret.value): string {
    const needles = secret.kind === 'private_key' ? shown.split('\n').filter((l) => /^[A-Za-z0-9+/=]{16,}$/.test(l)) : [shown];
    this.planted.push({ kind: secret.kind, needles });
    return shown;
  }

  /** A password as it appears in a URL (percent-encoded). */
  urlPassword(): string {
    const value = password(this.r);
    return this.plant({ kind: 'url_credentials', value }, encodeURIComponent(value));
  }

  password(kind = 'password'): string {
    return this.plant({ kind, value: password(this.r) });
  }

  /** A home directory in the style of an OS; what must go is the user's name in it. */
  home(style: 'linux' | 'mac' | 'windows' | 'windows-json' = 'linux'): string {
    const user = username(this.r);
    const path = { linux: `/home/${user}`, mac: `/Users/${user}`, windows: `C:\\Users\\${user}`, 'windows-json': `C:\\\\Users\\\\${user}` }[
      style
    ];
    this.planted.push({ kind: 'home_path', needles: [path] });
    return path;
  }

  email(): string {
    return this.secret('email');
  }

  pick<T>(items: readonly T[]): T {
    return this.r.pick(items);
  }
}

type Template = (p: Planter) => string;

/** The first lines of a PEM key with its END line cut off, as `head` shows it. */
const truncatedPem = (p: Planter): string => {
  const key = generate(p.r, 'private_key').value.split('\n');
  return p.plant({ kind: 'private_key', value: key.slice(0, 4).join('\n') });
};

const TEMPLATES: Record<string, Template> = {
  // ── shell output ──────────────────────────────────────────────────────────
  'env-grep': (p) =>
    `$ env | grep -iE 'key|token|secret'\nAWS_ACCESS_KEY_ID=${p.secret('aws_access_key')}\nAWS_SECRET_ACCESS_KEY=${p.secret('aws_secret_key')}\nAWS_DEFAULT_REGION=eu-west-1\nGITHUB_TOKEN=${p.secret('github_token')}\nHOME=${p.home()}\n`,
  'aws-credentials-file': (p) =>
    `$ cat ~/.aws/credentials\n[default]\naws_access_key_id = ${p.secret('aws_access_key')}\naws_secret_access_key = ${p.secret('aws_secret_key')}\n\n[ci]\naws_access_key_id=${p.secret('aws_access_key')}\naws_secret_access_key=${p.secret('aws_secret_key')}\nregion=us-east-1\n`,
  'aws-configure': (p) =>
    `$ aws configure --profile deploy\nAWS Access Key ID [None]: ${p.secret('aws_access_key')}\nAWS Secret Access Key [None]: ${p.secret('aws_secret_key')}\nDefault region name [None]: eu-west-1\nDefault output format [None]: json\n`,
  'odbc-dsn': (p) =>
    `$ isql -v -k "Driver={ODBC Driver 18 for SQL Server};Server=tcp:sql.internal,1433;Database=ledger;Uid=ledger_ro;Pwd=${p.password()};Encrypt=yes;"\n[ISQL]ERROR: Could not SQLDriverConnect\n`,
  'aws-credentials-csv': (p) =>
    `$ cat ~/Downloads/deploy-bot_accessKeys.csv\nAccess key ID,Secret access key\n${p.secret('aws_access_key')},${p.secret('aws_secret_key')}\n`,
  'aws-sts': (p) =>
    `$ aws sts get-session-token --duration-seconds 3600\n{\n    "Credentials": {\n        "AccessKeyId": "${p.secret('aws_access_key')}",\n        "SecretAccessKey": "${p.secret('aws_secret_key')}",\n        "SessionToken": "${p.plant({ kind: 'secret', value: 'IQoJb3JpZ2luX2VjE' + generate(p.r, 'secret').value + generate(p.r, 'aws_secret_key').value })}",\n        "Expiration": "2026-11-22T12:00:00+00:00"\n    }\n}\n`,
  'git-remote': (p) =>
    `$ git remote -v\norigin\thttps://${p.secret('github_token')}@github.com/acme/payments-api.git (fetch)\norigin\thttps://x-access-token:${p.secret('github_token')}@github.com/acme/payments-api.git (push)\nmirror\thttps://oauth2:${p.secret('gitlab_token')}@gitlab.com/acme/payments-api.git (fetch)\n`,
  'git-credentials': (p) =>
    `$ cat ~/.git-credentials\nhttps://${username(p.r)}:${p.secret('github_token')}@github.com\nhttps://ci:${p.urlPassword()}@git.internal.example.com\n`,
  'gh-auth-status': (p) =>
    `$ gh auth status -t\ngithub.com\n  ✓ Logged in to github.com account ${username(p.r)} (keyring)\n  - Active account: true\n  - Git operations protocol: https\n  - Token: ${p.secret('github_token')}\n  - Token scopes: 'gist', 'read:org', 'repo'\n`,
  npmrc: (p) =>
    `$ cat ~/.npmrc\nregistry=https://registry.npmjs.org/\n//registry.npmjs.org/:_authToken=${p.secret('npm_token')}\n@acme:registry=https://npm.pkg.github.com\n//npm.pkg.github.com/:_authToken=${p.secret('github_token')}\nemail=${p.email()}\n`,
  twine: (p) =>
    `$ TWINE_USERNAME=__token__ TWINE_PASSWORD=${p.secret('pypi_token')} twine upload dist/*\nUploading distributions to https://upload.pypi.org/legacy/\n`,
  pypirc: (p) =>
    `$ cat ~/.pypirc\n[distutils]\nindex-servers = pypi\n\n[pypi]\nusername = __token__\npassword = ${p.secret('pypi_token')}\n`,
  'shell-history': (p) =>
    `$ history | tail -6\n  501  export STRIPE_SECRET_KEY=${p.secret('stripe_key')}\n  502  mysql -u root -p${p.password()} billing < dump.sql\n  503  curl -u admin:${p.password('basic_auth')} https://jenkins.internal/api/json\n  504  sshpass -p ${p.password()} ssh deploy@10.0.3.7\n  505  psql "postgresql://report:${p.urlPassword()}@replica.internal:5432/warehouse"\n  506  history | tail -6\n`,
  'ps-aux': (p) =>
    `$ ps aux | grep -v grep | grep worker\napp   4121  2.1  1.3 1204332 210332 ?  Sl   09:12   3:01 node dist/worker.js --queue=billing --api-key=${p.secret('secret')} --db-password ${p.password()}\napp   4188  0.0  0.1  22332  4012 ?  S    09:12   0:00 /usr/bin/python3 ${p.home()}/bin/sync.py --token "${p.secret('secret')}"\n`,
  'kubectl-secret': (p) => {
    const b64 = (s: string) => Buffer.from(s).toString('base64');
    const pw = password(p.r);
    const key = generate(p.r, 'secret').value;
    p.plant({ kind: 'password', value: b64(pw) });
    p.plant({ kind: 'secret', value: b64(key) });
    return `$ kubectl get secret billing-db -o yaml\napiVersion: v1\ndata:\n  password: ${b64(pw)}\n  api-key: ${b64(key)}\n  username: ${b64('billing')}\nkind: Secret\nmetadata:\n  name: billing-db\n  namespace: payments\ntype: Opaque\n`;
  },
  'heroku-config': (p) =>
    `$ heroku config -a acme-payments\n=== acme-payments Config Vars\nDATABASE_URL:        postgres://u3kd9:${p.urlPassword()}@ec2-54-220-1-2.eu-west-1.compute.amazonaws.com:5432/d8k2\nREDIS_URL:           rediss://:${p.urlPassword()}@ec2-34-250-9-1.eu-west-1.compute.amazonaws.com:21650\nSLACK_WEBHOOK_URL:   ${p.secret('slack_webhook')}\nSENDGRID_FROM:       ${p.email()}\n`,
  'azure-cli': (p) =>
    `$ az storage account show-connection-string -n acmestore -g prod\n{\n  "connectionString": "DefaultEndpointsProtocol=https;EndpointSuffix=core.windows.net;AccountName=acmestore;AccountKey=${p.secret('azure_storage_key')}"\n}\n$ az storage blob list --account-name acmestore --account-key ${p.secret('azure_storage_key')} -c logs -o table\n`,
  'az-ad-sp': (p) =>
    `$ az ad sp create-for-rbac --name deploy-bot\n{\n  "appId": "3f1c2a9e-7b44-4d1e-9c55-2f0a8e6b1d77",\n  "displayName": "deploy-bot",\n  "password": "${p.secret('azure_client_secret')}",\n  "tenant": "c0ffee00-1234-4abc-8def-0123456789ab"\n}\n`,
  'head-key': (p) => `$ head -5 keys/deploy_key.pem\n${truncatedPem(p)}\n`,
  'read-tool-numbered': (p) => {
    const numbered = (text: string) =>
      text
        .split('\n')
        .map((l, i) => `${String(i + 1).padStart(6)}\t${l}`)
        .join('\n');
    return numbered(`${p.secret('private_key')}\n\nDEPLOY_TOKEN=${p.secret('gitlab_token')}\nDB_PASSWORD=${p.password()}`);
  },
  'cat-key': (p) => `$ cat ~/.ssh/id_deploy\n${p.secret('private_key')}\n`,
  netrc: (p) =>
    `$ cat ~/.netrc\nmachine api.heroku.com\n  login ${p.email()}\n  password ${p.password()}\nmachine git.heroku.com login ${p.email()} password ${p.password()}\n`,
  'wsl-paths': (p) => {
    const user = username(p.r);
    p.planted.push({ kind: 'home_path', needles: [`/mnt/c/Users/${user}`] });
    return `$ pwd\n/mnt/c/Users/${user}/source/repos/acme\n$ ls ${p.home('linux')}/.ssh\nconfig  id_ed25519  id_ed25519.pub  known_hosts\n`;
  },
  powershell: (p) =>
    `PS ${p.home('windows')}\\source> $env:OPENAI_API_KEY = "${p.secret('openai_key')}"\nPS> $password = "${p.password()}"\nPS> Connect-AzAccount -ServicePrincipal -Credential $cred -Tenant $tenantId\n`,
  // ── files ────────────────────────────────────────────────────────────────
  dotenv: (p) =>
    `# .env.production\nNODE_ENV=production\nPORT=8080\nDATABASE_URL=postgres://app:${p.urlPassword()}@db.internal:5432/app\nOPENAI_API_KEY=${p.secret('openai_key')}\nANTHROPIC_API_KEY="${p.secret('anthropic_key')}"\nexport SESSION_SECRET='${p.secret('secret')}'\nSMTP_PASSWORD=${p.password()}\nADMIN_EMAIL=${p.email()}\n`,
  'dotenv-llm': (p) =>
    `GEMINI_API_KEY=${p.secret('google_api_key')}\nHF_TOKEN=${p.secret('huggingface_token')}\nOPENAI_API_KEY=${p.secret('openai_key')}\nSLACK_BOT_TOKEN=${p.secret('slack_token')}\nSLACK_APP_TOKEN=${p.secret('slack_token')}\n`,
  'service-account-json': (p) => {
    const pem = p.secret('private_key').replace(/\n/g, '\\n');
    return `{\n  "type": "service_account",\n  "project_id": "acme-prod-291802",\n  "private_key_id": "1f0e3a0c6b9d4e7f8a2b3c4d5e6f7a8b9c0d1e2f",\n  "private_key": "${pem}\\n",\n  "client_email": "${p.plant({ kind: 'email', value: `deployer@acme-prod-291802.iam.gserviceaccount.com` })}",\n  "client_id": "104518236672251993211",\n  "auth_uri": "https://accounts.google.com/o/oauth2/auth",\n  "token_uri": "https://oauth2.googleapis.com/token"\n}\n`;
  },
  'client-secret-json': (p) =>
    `{"installed":{"client_id":"702147523134-5u3vb9t0b2l3ls7qe2v1jtsnafo3kc1d.apps.googleusercontent.com","project_id":"acme-cli","auth_uri":"https://accounts.google.com/o/oauth2/auth","client_secret":"${p.secret('google_oauth')}","redirect_uris":["http://localhost"]}}\n`,
  'gcloud-token': (p) => `$ gcloud auth print-access-token\n${p.plant(SECRETS.google_oauth![1]!(p.r))}\n`,
  'appsettings-json': (p) =>
    `{\n  "ConnectionStrings": {\n    "Default": "Server=tcp:acme.database.windows.net,1433;Initial Catalog=billing;User ID=billing_app;Password=${p.password()};Encrypt=True;",\n    "Storage": "DefaultEndpointsProtocol=https;AccountName=acmelogs;AccountKey=${p.secret('azure_storage_key')};EndpointSuffix=core.windows.net",\n    "Queue": "BlobEndpoint=https://acmelogs.blob.core.windows.net/;SharedAccessSignature=sv=2023-11-03&ss=bq&srt=sco&sp=rl&se=2026-12-31T00:00:00Z&sig=${p.secret('azure_sas_token')}",\n    "ServiceBus": "Endpoint=sb://acme.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=${p.plant({ kind: 'azure_storage_key', value: p.r.bytes(32).toString('base64') })}"\n  },\n  "AzureAd": { "ClientId": "3f1c2a9e-7b44-4d1e-9c55-2f0a8e6b1d77", "ClientSecret": "${p.secret('azure_client_secret')}" }\n}\n`,
  'config-json': (p) =>
    `{\n  "server": { "port": 3000, "host": "0.0.0.0" },\n  "database": { "host": "db.internal", "user": "app", "password": "${p.password()}" },\n  "stripe": { "secretKey": "${p.secret('stripe_key')}", "webhookSecret": "${p.secret('stripe_key')}" },\n  "auth": { "jwtSecret": "${p.secret('secret')}", "refresh_token": "${p.secret('jwt')}" },\n  "owner": "${p.email()}"\n}\n`,
  'docker-compose': (p) =>
    `services:\n  db:\n    image: postgres:16\n    environment:\n      - POSTGRES_USER=app\n      - POSTGRES_PASSWORD=${p.password()}\n  api:\n    build: .\n    environment:\n      DATABASE_URL: "postgresql://app:${p.urlPassword()}@db:5432/app"\n      MONGO_URL: mongodb+srv://api:${p.urlPassword()}@cluster0.x1y2z.mongodb.net/prod?retryWrites=true\n      AMQP_URL: amqp://billing:${p.urlPassword()}@rabbitmq:5672/%2F\n      SENTRY_AUTH_TOKEN: ${p.secret('secret')}\n    volumes:\n      - ${p.home('mac')}/src/api:/app\n`,
  'spring-yaml': (p) =>
    `spring:\n  datasource:\n    url: jdbc:mysql://db.internal:3306/orders?user=orders&password=${p.password()}&useSSL=true\n    username: orders\n    password: ${p.password()}\n  mail:\n    username: ${p.email()}\n    password: '${p.password()}'\n`,
  'gitlab-ci': (p) =>
    `variables:\n  DOCKER_DRIVER: overlay2\n  GITLAB_TOKEN: ${p.secret('gitlab_token')}\n  NPM_TOKEN: "${p.secret('npm_token')}"\ndeploy:\n  script:\n    - echo "//registry.npmjs.org/:_authToken=\${NPM_TOKEN}" > .npmrc\n    - curl --header "PRIVATE-TOKEN: ${p.secret('gitlab_token')}" "https://gitlab.com/api/v4/projects/42/releases"\n`,
  'terraform-tfvars': (p) =>
    `region         = "eu-central-1"\naccess_key     = "${p.secret('aws_access_key')}"\nsecret_key     = "${p.secret('aws_secret_key')}"\ndb_password    = "${p.password()}"\ncloudflare_api_token = "${p.secret('secret')}"\n`,
  'java-properties': (p) =>
    `# application.properties\nspring.datasource.url=jdbc:postgresql://db:5432/app\nspring.datasource.password=${p.password()}\naws.accessKeyId=${p.secret('aws_access_key')}\naws.secretKey=${p.secret('aws_secret_key')}\nstripe.apiKey=${p.secret('stripe_key')}\nmail.smtp.user=${p.email()}\n`,
  'maven-settings': (p) =>
    `<settings>\n  <servers>\n    <server>\n      <id>acme-releases</id>\n      <username>deployer</username>\n      <password>${p.password()}</password>\n    </server>\n  </servers>\n</settings>\n`,
  'ini-config': (p) =>
    `[database]\nhost = db.internal\nuser = reporting\npassword = ${p.password()}\n\n[smtp]\nuser = ${p.email()}\nsmtp_pass: ${p.password()}\n`,
  // ── diffs ────────────────────────────────────────────────────────────────
  'git-diff-settings': (p) =>
    `diff --git a/config/settings.py b/config/settings.py\nindex 3b18e51..a9c2f4d 100644\n--- a/config/settings.py\n+++ b/config/settings.py\n@@ -18,9 +18,9 @@ DEBUG = False\n-SECRET_KEY = "${p.secret('secret')}"\n+SECRET_KEY = "${p.secret('secret')}"\n ALLOWED_HOSTS = ["api.example.com"]\n-AWS_SECRET_ACCESS_KEY = '${p.secret('aws_secret_key')}'\n+AWS_SECRET_ACCESS_KEY = os.environ["AWS_SECRET_ACCESS_KEY"]\n EMAIL_HOST_USER = "${p.email()}"\n`,
  'git-diff-key': (p) => {
    const key = p.secret('private_key');
    return `diff --git a/deploy/id_rsa b/deploy/id_rsa\nnew file mode 100600\nindex 0000000..5f3c2e1\n--- /dev/null\n+++ b/deploy/id_rsa\n@@ -0,0 +1,${key.split('\n').length} @@\n${key
      .split('\n')
      .map((l) => '+' + l)
      .join('\n')}\n`;
  },
  'git-diff-env': (p) =>
    `diff --git a/.env.example b/.env.example\n--- a/.env.example\n+++ b/.env.example\n@@ -1,4 +1,5 @@\n STRIPE_PUBLISHABLE_KEY=pk_test_51Hx\n-STRIPE_SECRET_KEY=sk_test_your_key_here\n+STRIPE_SECRET_KEY=${p.secret('stripe_key')}\n+SLACK_WEBHOOK=${p.secret('slack_webhook')}\n GOOGLE_API_KEY=${p.secret('google_api_key')}\n`,
  // ── stack traces and logs ───────────────────────────────────────────────
  'node-stack': (p) => {
    const home = p.home(p.pick(['linux', 'mac'] as const));
    return `Error: password authentication failed for user "app"\n    at Parser.parseErrorMessage (${home}/src/api/node_modules/pg-protocol/dist/parser.js:287:98)\n    at Socket.<anonymous> (${home}/src/api/node_modules/pg-protocol/dist/index.js:11:42)\n    at connect (${home}/src/api/src/db.ts:14:11) {\n  connectionString: 'postgres://app:${p.urlPassword()}@db.internal:5432/app'\n}\n`;
  },
  'python-traceback': (p) => {
    const home = p.home(p.pick(['linux', 'mac'] as const));
    return `Traceback (most recent call last):\n  File "${home}/work/etl/run.py", line 41, in <module>\n    resp.raise_for_status()\n  File "${home}/.venv/lib/python3.12/site-packages/requests/models.py", line 1024, in raise_for_status\n    raise HTTPError(http_error_msg, response=self)\nrequests.exceptions.HTTPError: 401 Client Error: Unauthorized for url: https://api.example.com/v2/export?api_key=${p.secret('secret')}&format=csv\n`;
  },
  'windows-stack': (p) => {
    const home = p.home('windows');
    return `Unhandled exception. System.UnauthorizedAccessException: Access to the path '${home}\\AppData\\Local\\acme\\token.json' is denied.\n   at System.IO.FileSystem.CreateDirectory(String fullPath)\n   at Acme.Cli.Program.Main(String[] args) in ${home}\\source\\repos\\acme\\Program.cs:line 27\nBearer ${p.secret('jwt')}\n`;
  },
  'json-log': (p) =>
    `{"level":"error","time":"2026-11-21T09:14:07.331Z","msg":"upstream rejected request","url":"https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-pro:generateContent?key=${p.secret('google_api_key')}","user":"${p.email()}","headers":{"authorization":"Bearer ${p.secret('openai_key')}","x-api-key":"${p.secret('anthropic_key')}"}}\n`,
  'http-dump': (p) =>
    `> POST /v1/messages HTTP/1.1\n> Host: api.anthropic.com\n> x-api-key: ${p.secret('anthropic_key')}\n> anthropic-version: 2023-06-01\n> Cookie: session=${p.secret('jwt')}; theme=dark\n> Authorization: Bearer ${p.secret('bearer_token')}\n> Authorization: Basic ${p.plant({ kind: 'basic_auth', value: Buffer.from(`admin:${password(p.r)}`).toString('base64') })}\n`,
  // ── curl commands ───────────────────────────────────────────────────────
  'curl-openai': (p) =>
    `curl https://api.openai.com/v1/chat/completions \\\n  -H "Content-Type: application/json" \\\n  -H "Authorization: Bearer ${p.secret('openai_key')}" \\\n  -d '{"model": "gpt-5", "messages": [{"role": "user", "content": "hi"}]}'\n`,
  'curl-anthropic': (p) =>
    `curl https://api.anthropic.com/v1/messages -H 'x-api-key: ${p.secret('anthropic_key')}' -H 'anthropic-version: 2023-06-01' -d @body.json\n`,
  'curl-stripe': (p) => `curl https://api.stripe.com/v1/charges -u ${p.secret('stripe_key')}: -d amount=2000 -d currency=usd\n`,
  'curl-slack': (p) => `curl -X POST -H 'Content-type: application/json' --data '{"text":"deploy done"}' ${p.secret('slack_webhook')}\n`,
  'curl-github': (p) =>
    `curl -sS -H "Authorization: token ${p.secret('github_token')}" -H "Accept: application/vnd.github+json" https://api.github.com/repos/acme/api/actions/runs\n`,
  'curl-sas': (p) =>
    `curl -X PUT -T backup.tar.gz "https://acmebackups.blob.core.windows.net/nightly/backup.tar.gz?sv=2023-11-03&ss=b&srt=sco&sp=rwdlac&se=2026-12-31T00:00:00Z&st=2026-11-01T00:00:00Z&spr=https&sig=${p.secret('azure_sas_token')}"\n`,
  'curl-bearer': (p) => `curl -sf https://api.internal.example.com/v1/deploys -H "Authorization: Bearer ${p.secret('bearer_token')}"\n`,
  'curl-hf': (p) => `curl https://huggingface.co/api/whoami-v2 -H "Authorization: Bearer ${p.secret('huggingface_token')}"\n`,
  'curl-basic': (p) => `curl --user deploy:${p.password('basic_auth')} -X POST https://ci.internal.example.com/job/release/build\n`,
  // ── source code ─────────────────────────────────────────────────────────
  'python-code': (p) =>
    `import openai\nimport stripe\n\nclient = openai.OpenAI(api_key="${p.secret('openai_key')}")\nstripe.api_key = "${p.secret('stripe_key')}"\nDB_PASSWORD = '${p.password()}'\nHEADERS = {"Authorization": f"Bearer {TOKEN}", "X-Api-Key": "${p.secret('secret')}"}\n`,
  'js-code': (p) =>
    `const firebaseConfig = {\n  apiKey: "${p.secret('google_api_key')}",\n  authDomain: "acme-app.firebaseapp.com",\n  projectId: "acme-app",\n};\nconst octokit = new Octokit({ auth: '${p.secret('github_token')}' });\nconst slack = new WebClient('${p.secret('slack_token')}');\nconst conn = await mysql.createConnection({ host: 'db', user: 'root', password: '${p.password()}' });\n`,
  'go-code': (p) =>
    `package main\n\nconst (\n\tapiToken = "${p.secret('secret')}"\n\tdsn      = "postgres://svc:${p.urlPassword()}@10.0.0.12:5432/ledger?sslmode=disable"\n)\n\nfunc main() {\n\tpassword := "${p.password()}"\n\t_ = password\n}\n`,
  'ruby-code': (p) =>
    `Rails.application.configure do\n  config.x.smtp = { user_name: "${p.email()}", 'password' => '${p.password()}', :authentication => :plain }\nend\n`,
  'jwt-decode': (p) =>
    `$ echo $ID_TOKEN\n${p.secret('jwt')}\n$ jwt decode $ACCESS_TOKEN\nToken header\n------------\n{ "typ": "JWT", "alg": "RS256" }\naccess_token=${p.secret('jwt')}\n`,
  // ── the assistant's prose ───────────────────────────────────────────────
  'assistant-summary': (p) =>
    `I found these credentials committed in plain text:\n\n1. AWS access key \`${p.secret('aws_access_key')}\` with its secret \`${p.secret('aws_secret_key')}\`.\n2. The GitHub token ${p.secret('github_token')} in \`.github/workflows/release.yml\`.\n3. The database password \`${p.password()}\` in DATABASE_URL.\n4. Stripe key ${p.secret('stripe_key')}.\n\nRotate them, then tell ${p.email()}.`,
  'assistant-quoted': (p) =>
    `The token is '${p.secret('secret')}' and the password is "${p.password()}"; the Slack bot uses ${p.secret('slack_token')}. Your project lives in ${p.home('mac')}/code/acme.`,
  'claude-project-dir': (p) => {
    const user = username(p.r).replace(/[^A-Za-z0-9]/g, '-');
    p.planted.push({ kind: 'home_path', needles: [`-home-${user}-`] });
    return `transcript: ~/.claude/projects/-home-${user}-src-acme-api/2e82783c-48d5-44be-b855-1acd1651fe75.jsonl`;
  },
  'windows-json-paths': (p) =>
    `{"cwd":"${p.home('windows-json')}\\\\source\\\\acme","log":"${p.home('windows-json')}\\\\AppData\\\\Local\\\\Temp\\\\run.log"}`,
};

const escapeJson = (text: string): string => JSON.stringify(text).slice(1, -1);
const escapePlanted = (planted: Planted[]): Planted[] => planted.map((p) => ({ kind: p.kind, needles: p.needles.map(escapeJson) }));

/** Every template, `variants` times each, plain and as (nested) JSON strings. */
export function positiveSamples(variants = 16, seed = 20261121): PositiveSample[] {
  const r = new Random(seed);
  const samples: PositiveSample[] = [];
  for (const [template, render] of Object.entries(TEMPLATES)) {
    for (let i = 0; i < variants; i++) {
      const planter = new Planter(r);
      const text = render(planter);
      samples.push({ template, text, planted: planter.planted });
      // Hook payloads and transcript records hold tool output as a JSON string; a tool result
      // that is itself JSON (a hook payload read from disk) holds it escaped twice.
      const once = escapePlanted(planter.planted);
      samples.push({ template: `${template} (json)`, text: `{"type":"tool_result","content":"${escapeJson(text)}"}`, planted: once });
      if (i % 4 === 0)
        samples.push({ template: `${template} (json in json)`, text: escapeJson(escapeJson(text)), planted: escapePlanted(once) });
    }
  }
  return samples;
}
