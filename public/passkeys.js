// Passkeys on Gatehouse's pages. WebAuthn needs script, so this small
// module carries the server's options to the browser's authenticator and
// its answer back; the server checks everything. It works with whatever
// page is on screen:
//   - a button with data-passkey="sign-in" | "add" | "confirm" runs that
//     ceremony; the message goes to [data-passkey-status] in the same
//     [data-passkey-area];
//   - a username field with autocomplete="... webauthn" offers the
//     person's passkeys among its autofill suggestions (conditional
//     mediation), for as long as it is on the page.
// Without WebAuthn in the browser the html element does not get the
// class "passkeys", and the stylesheet keeps passkey controls hidden.

const supported = typeof window.PublicKeyCredential === "function" && !!navigator.credentials;
if (supported) document.documentElement.classList.add("passkeys");

const b64url = {
  decode(text) {
    const binary = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
    return Uint8Array.from(binary, (c) => c.charCodeAt(0)).buffer;
  },
  encode(buffer) {
    let binary = "";
    for (const byte of new Uint8Array(buffer)) binary += String.fromCharCode(byte);
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  },
};

/** The options without members the server left empty (the browser refuses null). */
function pruned(value) {
  if (Array.isArray(value)) return value.map(pruned);
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== null).map(([k, v]) => [k, pruned(v)]));
  }
  return value;
}

const ids = (list) => (list ?? []).map((c) => ({ ...c, id: b64url.decode(c.id) }));

function creationOptions(json) {
  const o = pruned(JSON.parse(json).publicKey);
  return { ...o, challenge: b64url.decode(o.challenge), user: { ...o.user, id: b64url.decode(o.user.id) }, excludeCredentials: ids(o.excludeCredentials) };
}

function requestOptions(json) {
  const o = pruned(JSON.parse(json).publicKey);
  return { ...o, challenge: b64url.decode(o.challenge), allowCredentials: ids(o.allowCredentials) };
}

/** The credential as the server reads it (what `toJSON()` gives, where the browser has it). */
function answer(credential) {
  const r = credential.response;
  const response = { clientDataJSON: b64url.encode(r.clientDataJSON) };
  if (r.attestationObject) {
    response.attestationObject = b64url.encode(r.attestationObject);
    response.transports = r.getTransports ? r.getTransports() : [];
  } else {
    response.authenticatorData = b64url.encode(r.authenticatorData);
    response.signature = b64url.encode(r.signature);
    response.userHandle = r.userHandle ? b64url.encode(r.userHandle) : null;
  }
  return JSON.stringify({
    id: credential.id,
    rawId: b64url.encode(credential.rawId),
    type: credential.type,
    response,
    extensions: credential.getClientExtensionResults ? credential.getClientExtensionResults() : {},
  });
}

class Refused extends Error {
  constructor(message, kind) {
    super(message);
    this.kind = kind;
  }
}

/** What a server function's error says, in words (the server's own where it sent them). */
function said(error) {
  if (typeof error === "string") {
    return {
      ReauthRequired: "For your security, confirm it’s you to continue.",
      Busy: "The server is busy. Please try again in a few seconds.",
      Unavailable: "Gatehouse cannot reach its database right now. Please try again in a moment.",
    }[error] ?? "Something went wrong on our side. Please try again in a moment.";
  }
  const [, value] = Object.entries(error ?? {})[0] ?? [];
  if (typeof value === "string") return value;
  if (value && typeof value.message === "string") return value.message;
  return "Something went wrong on our side. Please try again in a moment.";
}

async function call(endpoint, fields = {}) {
  let res;
  try {
    res = await fetch(`/_fn/${endpoint}`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
      body: new URLSearchParams(fields),
      credentials: "same-origin",
    });
  } catch {
    throw new Refused("Could not reach the server. Check your connection and try again.");
  }
  const body = await res.json().catch(() => null);
  if (!res.ok) throw new Refused(said(body), typeof body === "string" ? body : Object.keys(body ?? {})[0]);
  return body;
}

/** Why the browser's part failed, in words. */
function browserSaid(error) {
  switch (error?.name) {
    case "NotAllowedError":
      return "The passkey request was cancelled or timed out.";
    case "InvalidStateError":
      return "This device already has a passkey for this account.";
    case "SecurityError":
      return atAnIp()
        ? `Passkeys do not work at an IP address. Open ${location.protocol}//localhost${location.port ? `:${location.port}` : ""}${location.pathname} instead.`
        : "This address cannot use passkeys. Open Gatehouse at the address its operator set.";
    default:
      return error instanceof Refused ? error.message : "The passkey could not be used here. Try another way.";
  }
}

const next = () => new URLSearchParams(location.search).get("next") ?? "";

/** Whether the page was opened at an IP address, which browsers refuse as a passkey's site. */
const atAnIp = () => /^\d+\.\d+\.\d+\.\d+$|^\[.*\]$/.test(location.hostname) || location.hostname.includes(":");

/** The one pending autofill request, so a button can cancel it first. */
let autofill = null;

function stopAutofill() {
  if (autofill) autofill.abort();
  autofill = null;
}

const ceremonies = {
  async "sign-in"() {
    stopAutofill();
    try {
      const started = await call("passkey-sign-in-options");
      const credential = await navigator.credentials.get({ publicKey: requestOptions(started.options) });
      location.assign(await call("passkey-sign-in", { ceremony: started.ceremony, credential: answer(credential), next: next() }));
    } catch (error) {
      // The button did not sign in: autofill offers passkeys again.
      if (offered?.isConnected && !autofill) offerIn(offered);
      throw error;
    }
  },
  async add(button) {
    const name = button.closest("[data-passkey-area]")?.querySelector("input[name=name]")?.value ?? "";
    if (!name.trim()) throw new Refused("Give the passkey a name, like “Laptop” or “Phone”.");
    const started = await call("passkey-add-options");
    const credential = await navigator.credentials.create({ publicKey: creationOptions(started.options) });
    await call("passkey-add", { ceremony: started.ceremony, name, credential: answer(credential) });
    location.reload();
  },
  async confirm() {
    const started = await call("passkey-confirm-options");
    const credential = await navigator.credentials.get({ publicKey: requestOptions(started.options) });
    location.assign(await call("passkey-confirm", { ceremony: started.ceremony, credential: answer(credential), next: next() }));
  },
};

document.addEventListener("click", async (event) => {
  const button = event.target.closest?.("[data-passkey]");
  const run = button && ceremonies[button.dataset.passkey];
  if (!run || !supported) return;
  event.preventDefault();
  const status = button.closest("[data-passkey-area]")?.querySelector("[data-passkey-status]");
  if (status) status.textContent = "";
  button.disabled = true;
  try {
    await run(button);
  } catch (error) {
    if (error instanceof Refused && error.kind === "ReauthRequired") {
      location.assign(`/reauth?next=${encodeURIComponent(location.pathname)}`);
      return;
    }
    if (status) status.textContent = browserSaid(error);
  } finally {
    button.disabled = false;
  }
});

/** Offers passkeys in the autofill of `field` until it leaves the page. */
async function offerIn(field) {
  const controller = new AbortController();
  autofill = controller;
  // A ceremony lives 5 minutes: a long-open page asks again before that.
  const renew = setTimeout(() => controller.abort("renew"), 4 * 60 * 1000);
  // Until the person picks a passkey, autofill is only an offer: if it
  // cannot be made (an IP address, a throttled address, no server), the
  // page says nothing, and the button explains when it is pressed.
  let picked = false;
  try {
    const started = await call("passkey-sign-in-options");
    const credential = await navigator.credentials.get({
      publicKey: requestOptions(started.options),
      mediation: "conditional",
      signal: controller.signal,
    });
    picked = true;
    const to = await call("passkey-sign-in", { ceremony: started.ceremony, credential: answer(credential), next: next() });
    location.assign(to);
  } catch (error) {
    if (controller.signal.aborted) {
      if (controller.signal.reason === "renew" && field.isConnected) offerIn(field);
      return;
    }
    if (!picked) {
      console.info("Passkey autofill is not offered:", error?.message ?? error);
      return;
    }
    const status = field.closest("[data-passkey-area]")?.querySelector("[data-passkey-status]");
    if (status) status.textContent = browserSaid(error);
  } finally {
    clearTimeout(renew);
    if (autofill === controller) autofill = null;
  }
}

let offered = null;

async function watchForAutofill() {
  if (!supported || !PublicKeyCredential.isConditionalMediationAvailable) return;
  if (!(await PublicKeyCredential.isConditionalMediationAvailable())) return;
  const check = () => {
    const field = document.querySelector('input[autocomplete~="webauthn"]');
    if (field === offered) return;
    if (offered) stopAutofill();
    offered = field;
    if (field) offerIn(field);
  };
  new MutationObserver(check).observe(document.body, { childList: true, subtree: true });
  check();
}

watchForAutofill();
