// Refresh the content every 5 s; ask before a retry or purge, and send the token.
"use strict";

function onSubmit(event) {
  const form = event.target.closest("form[data-confirm]");
  if (!form) return;
  if (!window.confirm(form.dataset.confirm)) {
    event.preventDefault();
    return;
  }
  const token = document.getElementById("token");
  if (token) form.elements.token.value = token.value;
}

async function refresh() {
  try {
    const reply = await fetch("content", { cache: "no-store" });
    if (reply.ok) document.getElementById("content").innerHTML = await reply.text();
  } catch (e) {
    // The next refresh tries again.
  }
}

document.addEventListener("submit", onSubmit);
setInterval(refresh, 5000);
