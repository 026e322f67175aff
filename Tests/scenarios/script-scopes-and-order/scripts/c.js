order.push("c");
