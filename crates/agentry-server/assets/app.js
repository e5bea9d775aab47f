// The dashboard: wires the board, the detail and the panels to the API and to the event stream
// that keeps them current.

import { saveToken, savedToken, takeTokenFromUrl } from "./api.js";
import { createBoard } from "./board.js";
import { createDetail } from "./detail.js";
import { batched } from "./dom.js";
import { createFlags } from "./flags.js";
import { follow, showState } from "./live.js";
import { createNewIssue } from "./new_issue.js";
import { createReviews } from "./reviews.js";
import { createStatus } from "./status.js";

const byId = (id) => document.getElementById(id);

takeTokenFromUrl();

const board = createBoard(byId("board"), { onSelect: select });
const detail = createDetail(byId("detail"), { onClose: () => board.mark(null) });
const status = createStatus(byId("status"));
const reviews = createReviews(byId("reviews"), { onAssigned: (id) => detail.reload(id) });
const flags = createFlags(byId("flags"));
createNewIssue(byId("new-issue-form"), { onCreated: () => board.refresh() });

function select(id) {
  detail.show(id);
  reviews.suggest(id);
}

const token = byId("token");
token.value = savedToken();
token.addEventListener("input", () => saveToken(token.value.trim()));

// Every event may move a card or change a count; bursts of events cost one read each.
const refreshBoard = batched(board.refresh, 250);
const refreshPanels = batched(() => {
  status.refresh();
  reviews.refresh();
}, 1000);

follow("/api/v1/events", {
  onEvent: () => {
    refreshBoard();
    refreshPanels();
  },
  onState: (state) => {
    showState(byId("live"), state);
    // A new stream starts after the newest event: read what changed before it connected.
    if (state === "live") refreshBoard();
  },
});

board.refresh();
status.refresh();
reviews.refresh();
flags.refresh();
