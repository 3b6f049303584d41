// The artifact browser: the listing's keyboard cursor (keyboard-table.js) starts on the file
// shown, and a preview image that cannot be decoded says so instead of a broken icon.
const selected = document.querySelector("#artifact-files tr[aria-current]");
if (selected && !document.querySelector("#artifact-files tr.is-current")) {
  selected.classList.add("is-current");
  selected.scrollIntoView({ block: "nearest" });
}

const image = document.querySelector("[data-testid=preview-image]");
const imageError = document.querySelector("[data-testid=image-error]");

function showImageError() {
  image.hidden = true;
  imageError.hidden = false;
}

if (image && imageError) {
  if (image.complete && image.naturalWidth === 0) {
    showImageError();
  } else {
    image.addEventListener("error", showImageError);
  }
}
