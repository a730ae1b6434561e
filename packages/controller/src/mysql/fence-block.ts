// The fence a hung master carries out by itself: one MariaDB anonymous block, queued on the
// controller's open connection to it, so it runs at the thaw even if the controller is gone by then.

/**
 * How long the fence of a master being replaced waits for read_only once its clients are killed,
 * before it kills again: one that reconnected in between may hold it off. Short: that master's
 * running writes cannot be kept anyway, and it stays writable meanwhile.
 */
export const QUICK_FENCE_S = 0.05;

/** Kills every client of the server, from inside an anonymous block; a session gone meanwhile is no error. */
function killClientsLoop(label: string): string {
  return `SET done = 0;
  OPEN clients;
  ${label}: LOOP
    FETCH clients INTO client;
    IF done THEN LEAVE ${label}; END IF;
    BEGIN
      DECLARE CONTINUE HANDLER FOR SQLEXCEPTION BEGIN END;
      EXECUTE IMMEDIATE CONCAT('KILL CONNECTION ', client);
    END;
  END LOOP;
  CLOSE clients;`;
}

/**
 * The clients first: after a freeze their commits wait for a semi-sync acknowledgement nobody will
 * send, and read_only would wait for them, the server writable meanwhile (a failover may be
 * promoting its successor right then). Then read_only, given QUICK_FENCE_S; the clients that came
 * in between are killed, and read_only is waited for.
 */
export function fenceAlone(keep: string): string {
  return `BEGIN NOT ATOMIC
  DECLARE done INT DEFAULT 0;
  DECLARE client BIGINT UNSIGNED;
  DECLARE clients CURSOR FOR SELECT id FROM information_schema.processlist WHERE ${keep};
  DECLARE CONTINUE HANDLER FOR NOT FOUND SET done = 1;
  ${killClientsLoop('kill_clients')}
  BEGIN
    DECLARE CONTINUE HANDLER FOR SQLEXCEPTION BEGIN END;
    SET STATEMENT max_statement_time=${QUICK_FENCE_S} FOR SET GLOBAL read_only=ON;
  END;
  ${killClientsLoop('kill_latecomers')}
  SET GLOBAL read_only=ON;
END`;
}
