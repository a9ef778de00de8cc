// Small DOM helpers every screen uses.

export const byId = (id) => document.getElementById(id);

/** A new element with an optional class and text. */
export const el = (tag, className, text) => {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
};

/** Set text only when it changed, so live updates cause no needless reflow. */
export const setText = (node, text) => { if (node && node.textContent !== text) node.textContent = text; };
